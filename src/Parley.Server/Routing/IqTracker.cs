using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>IQ requests the server itself sent, awaiting their result or error.</summary>
public sealed class IqTracker
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Stanza>> _pending = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers a request id sent to <paramref name="to"/>; the task completes with the reply from that address,
    /// or is cancelled by <paramref name="ct"/>.
    /// </summary>
    public Task<Stanza> Expect(string id, Jid to, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource<Stanza>(to, TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(id, tcs)) throw new InvalidOperationException("Duplicate IQ id " + id);
        if (ct.CanBeCanceled)
            ct.Register(() => { if (_pending.TryRemove(id, out var t)) t.TrySetCanceled(ct); });
        return tcs.Task;
    }

    /// <summary>
    /// Completes the request a reply answers. Unknown replies, and replies from anyone but the addressee (which
    /// would let one entity answer for another), are ignored (RFC 6120 §8.2.3).
    /// </summary>
    public void Complete(Stanza reply)
    {
        if (reply.Id is not { } id || !_pending.TryGetValue(id, out var tcs)) return;
        if (reply.From != (Jid)tcs.Task.AsyncState!) return;
        if (_pending.TryRemove(new KeyValuePair<string, TaskCompletionSource<Stanza>>(id, tcs))) tcs.TrySetResult(reply);
    }
}
