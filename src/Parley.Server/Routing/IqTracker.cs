using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>IQ requests the server itself sent, awaiting their result or error.</summary>
public sealed class IqTracker
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Stanza>> _pending = new(StringComparer.Ordinal);

    /// <summary>Registers a request id; the task completes with the reply, or is cancelled by <paramref name="ct"/>.</summary>
    public Task<Stanza> Expect(string id, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource<Stanza>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(id, tcs)) throw new InvalidOperationException("Duplicate IQ id " + id);
        if (ct.CanBeCanceled)
            ct.Register(() => { if (_pending.TryRemove(id, out var t)) t.TrySetCanceled(ct); });
        return tcs.Task;
    }

    /// <summary>Completes the request a reply answers; unknown replies are ignored (RFC 6120 §8.2.3).</summary>
    public void Complete(Stanza reply)
    {
        if (reply.Id is { } id && _pending.TryRemove(id, out var tcs)) tcs.TrySetResult(reply);
    }
}
