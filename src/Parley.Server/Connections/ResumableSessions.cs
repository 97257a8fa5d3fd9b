using System.Collections.Concurrent;

namespace Parley.Server.Connections;

/// <summary>XEP-0198 §5: sessions that may be resumed, by resumption id.</summary>
public sealed class ResumableSessions
{
    private readonly ConcurrentDictionary<string, ClientSession> _byId = new(StringComparer.Ordinal);

    /// <summary>How many sessions could be resumed (attached or waiting).</summary>
    public int Count => _byId.Count;

    internal void Add(string id, ClientSession session) => _byId[id] = session;

    internal bool TryGet(string id, out ClientSession session) => _byId.TryGetValue(id, out session!);

    internal void Remove(string id, ClientSession session) => _byId.TryRemove(new KeyValuePair<string, ClientSession>(id, session));

    /// <summary>Ends the sessions whose resume timeout passed while they waited (their unacknowledged stanzas are routed again).</summary>
    internal async Task ExpireAsync(long now)
    {
        foreach (var session in _byId.Values)
            if (session.Expired(now)) await session.EndAsync(null).ConfigureAwait(false);
    }

    /// <summary>Ends every waiting session (server shutdown): nothing they hold may be lost.</summary>
    internal async Task EndDetachedAsync()
    {
        foreach (var session in _byId.Values)
            if (session.Stream is null) await session.EndAsync(null).ConfigureAwait(false);
    }
}
