using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>The bound client sessions of this server, by full JID and by account.</summary>
public sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<Jid, IClientSession> _byFull = new();
    private readonly ConcurrentDictionary<Jid, IClientSession[]> _byAccount = new();
    private readonly Lock _gate = new();

    /// <summary>How many sessions are bound.</summary>
    public int Count => _byFull.Count;

    /// <summary>The session bound to a full JID.</summary>
    public bool TryGet(Jid fullJid, out IClientSession session) => _byFull.TryGetValue(fullJid, out session!);

    /// <summary>The sessions of an account (a snapshot; empty when none).</summary>
    public IClientSession[] Resources(Jid account) =>
        _byAccount.TryGetValue(account.Bare, out var list) ? list : [];

    /// <summary>Every bound session (a snapshot).</summary>
    public IReadOnlyCollection<IClientSession> All => [.. _byFull.Values];

    /// <summary>
    /// Adds a session. Returns false (and adds nothing) when the account is at <paramref name="maxResources"/>
    /// and the full JID is not already bound; otherwise returns the session it replaces, if any (RFC 6120 §7.7.2.2).
    /// </summary>
    public bool TryAdd(IClientSession session, int maxResources, out IClientSession? replaced)
    {
        lock (_gate)
        {
            _byFull.TryGetValue(session.Jid, out replaced);
            var bare = session.Jid.Bare;
            var current = Resources(bare);
            if (replaced is null && current.Length >= maxResources) return false;
            var next = new List<IClientSession>(current.Length + 1);
            foreach (var s in current)
                if (!ReferenceEquals(s, replaced)) next.Add(s);
            next.Add(session);
            _byAccount[bare] = [.. next];
            _byFull[session.Jid] = session;
            return true;
        }
    }

    /// <summary>Removes a session if it is still the one bound to its JID.</summary>
    public bool Remove(IClientSession session)
    {
        lock (_gate)
        {
            if (!_byFull.TryGetValue(session.Jid, out var bound) || !ReferenceEquals(bound, session)) return false;
            _byFull.TryRemove(session.Jid, out _);
            var bare = session.Jid.Bare;
            var current = Resources(bare);
            var next = new List<IClientSession>(current.Length);
            foreach (var s in current)
                if (!ReferenceEquals(s, session)) next.Add(s);
            if (next.Count == 0) _byAccount.TryRemove(bare, out _);
            else _byAccount[bare] = [.. next];
            return true;
        }
    }
}
