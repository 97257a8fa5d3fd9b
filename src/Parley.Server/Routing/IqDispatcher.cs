using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Server.Modules;

namespace Parley.Server.Routing;

/// <summary>
/// The one IQ error policy (RFC 6120 §8.2.3): every request gets exactly one reply; results and errors are
/// never answered; unknown payloads get service-unavailable; handler failures become internal-server-error.
/// </summary>
public sealed partial class IqDispatcher(ModuleRegistry modules, IqTracker tracker, ILogger<IqDispatcher> log)
{
    /// <summary>Handles an IQ addressed to the server or to an account on whose behalf the server answers.</summary>
    public async ValueTask DispatchAsync(Stanza iq, IqTarget target, ISession origin, CancellationToken ct)
    {
        var type = iq.IqType;
        if (type is IqType.Result or IqType.Error)
        {
            tracker.Complete(iq);                    // a reply to an IQ we sent; never answered
            return;
        }
        if (type is null)
        {
            Router.Bounce(iq, StanzaError.BadRequest("The IQ type must be get, set, result or error"), origin);
            return;
        }
        if (iq.Element.ChildCount != 1)
        {
            Router.Bounce(iq, StanzaError.BadRequest("An IQ get or set has exactly one child"), origin);
            return;
        }
        var payload = iq.Element.FirstChild()!;
        if (!modules.TryGetIqHandler(type.Value, payload.Name, target, out var handler))
        {
            Router.Bounce(iq, StanzaError.ServiceUnavailable, origin);
            return;
        }
        var to = iq.To ?? origin.Jid.Bare;
        IqReply reply;
        try
        {
            reply = await handler(iq, payload, iq.From ?? origin.Jid, to, origin, ct).ConfigureAwait(false);
        }
        catch (StanzaException e)
        {
            reply = e.Error;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            LogHandlerFailed(log, iq.Id, payload.Name.ToString(), e);
            reply = StanzaError.InternalServerError();
        }
        if (reply.Error is { } error) Router.Bounce(iq, error, origin);
        else origin.TryDeliver(iq.CreateIqResult(reply.Payload));
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Error, Message = "IQ handler for {Payload} failed on iq id {Id}")]
    private static partial void LogHandlerFailed(ILogger logger, string? id, string payload, Exception exception);
}
