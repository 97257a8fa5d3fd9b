using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Register;

/// <summary>
/// XEP-0077: in-band registration before authentication (off unless Registration:Enabled, and limited per IP
/// address), and for a logged-in user, password change (§3.3) and account removal (§3.2), which are always on.
/// </summary>
public sealed class RegisterModule(Accounts accounts, SessionRegistry sessions, IOptions<ParleyOptions> options, TimeProvider time) : IModule
{
    private static readonly QName QueryName = new(Ns.Register, "query");
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _recent = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("register", Xeps: [77]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Register);
        m.StreamFeature(Stage.PreAuth, _ => options.Value.Registration.Enabled ? new Element("register", Ns.RegisterFeature) : null);
        m.OnNegotiationIq(QueryName, RegisterAsync, Stage.PreAuth);
        // §3.2 and §3.3 address the server ('to' the domain, as in the XEP's examples); clients also send them with no 'to'.
        foreach (var target in (IqTarget[])[IqTarget.Self, IqTarget.Server])
        {
            m.OnIq<RegisterQuery>(IqType.Get, target, (iq, _) => ValueTask.FromResult(IqReply.Ok(
                new Element(QueryName).Add(new Element("registered", Ns.Register)).Add(new Element("username", Ns.Register).AddText(iq.From.Local!)))));
            m.OnIq<RegisterQuery>(IqType.Set, target, ChangeAsync);
        }
        m.OnIq<RegisterQuery>(IqType.Get, IqTarget.Account, (_, _) => ValueTask.FromResult<IqReply>(StanzaError.Forbidden()));
        m.OnIq<RegisterQuery>(IqType.Set, IqTarget.Account, (_, _) => ValueTask.FromResult<IqReply>(StanzaError.Forbidden()));
    }

    // §3.1: a new account, before authentication.
    private async ValueTask RegisterAsync(Stanza iq, IStreamContext stream, CancellationToken ct)
    {
        var o = options.Value.Registration;
        if (!o.Enabled)
        {
            await stream.SendAsync(iq.CreateErrorReply(StanzaError.ServiceUnavailable), ct).ConfigureAwait(false);
            return;
        }
        var query = iq.Element.FirstChild()!;
        if (iq.IqType == IqType.Get)
        {
            var form = new Element(QueryName)
                .Add(new Element("instructions", Ns.Register).AddText("Choose a username and password."))
                .Add(new Element("username", Ns.Register))
                .Add(new Element("password", Ns.Register));
            await stream.SendAsync(iq.CreateIqResult(form), ct).ConfigureAwait(false);
            return;
        }
        StanzaError? error = null;
        var username = query.ChildText("username", Ns.Register);
        var password = query.ChildText("password", Ns.Register);
        if (iq.IqType != IqType.Set || string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
            error = StanzaError.NotAcceptable("A username and a password are required");
        else if (!accounts.TryParseAccount(username, out var account) || username.Contains('@', StringComparison.Ordinal))
            error = StanzaError.NotAcceptable("The username is not a valid localpart");
        else if (!Accounts.IsValidPassword(password))
            error = StanzaError.NotAcceptable("The password is not acceptable");
        else if (!Allow(stream.RemoteAddress?.ToString() ?? "unknown", o.PerAddressPerHour))
            error = StanzaError.ResourceConstraint("Too many registrations from this address; try later");
        else if (!await accounts.CreateAsync(account, password, ct).ConfigureAwait(false))
            error = StanzaError.Conflict("The username is taken");
        await stream.SendAsync(error is null ? iq.CreateIqResult() : iq.CreateErrorReply(error), ct).ConfigureAwait(false);
    }

    // §3.3 password change and §3.2 removal, by the logged-in owner.
    private async ValueTask<IqReply> ChangeAsync(IqRequest<RegisterQuery> iq, CancellationToken ct)
    {
        var account = iq.From.Bare;
        var query = iq.Stanza.Element.FirstChild()!;
        if (query.Child("remove", Ns.Register) is not null)
        {
            await accounts.DeleteAsync(account, ct).ConfigureAwait(false);
            var sessionsOfAccount = sessions.Resources(account);
            // The result goes out first; then every session of the removed account ends.
            _ = Task.Run(async () =>
            {
                await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
                foreach (var s in sessionsOfAccount)
                    await s.CloseAsync(StreamError.NotAuthorized("The account was removed"), CancellationToken.None).ConfigureAwait(false);
            }, CancellationToken.None);
            return IqReply.Empty;
        }
        var username = query.ChildText("username", Ns.Register);
        var password = query.ChildText("password", Ns.Register);
        if (string.IsNullOrEmpty(password)) return StanzaError.BadRequest("A new password is required");
        if (username is not null && (!accounts.TryParseAccount(username, out var named) || named != account))
            return StanzaError.BadRequest("The username is not this account's");
        if (!Accounts.IsValidPassword(password)) return StanzaError.NotAcceptable("The password is not acceptable");
        return await accounts.SetPasswordAsync(account, password, ct).ConfigureAwait(false) ? IqReply.Empty : StanzaError.ItemNotFound();
    }

    private bool Allow(string address, int perHour)
    {
        var now = time.GetUtcNow();
        var queue = _recent.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
        lock (queue)
        {
            while (queue.Count > 0 && now - queue.Peek() > TimeSpan.FromHours(1)) queue.Dequeue();
            if (queue.Count >= perHour) return false;
            queue.Enqueue(now);
            return true;
        }
    }
}

/// <summary>XEP-0077: the &lt;query xmlns='jabber:iq:register'/&gt; payload (read as an element).</summary>
public sealed record RegisterQuery : IPayload<RegisterQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Register, "query");

    /// <inheritdoc />
    public static RegisterQuery Parse(Element element) => new();

    /// <inheritdoc />
    public Element ToElement() => new(Name);
}
