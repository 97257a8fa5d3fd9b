using System.Collections.Concurrent;
using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Pep;

/// <summary>
/// XEP-0115 entity capabilities of client sessions, for PEP's +notify filtering (XEP-0163 §4.4): the 'ver' a
/// session announced, and for each verified 'ver' its features. An unknown 'ver' is learned by asking the session
/// for disco#info of node#ver and checking the answer against the hash (§5.4, data forms included); an answer
/// that does not verify is used for that session only and never cached.
/// </summary>
public sealed class EntityCaps
{
    private readonly ConcurrentDictionary<string, HashSet<string>> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IClientSession, HashSet<string>> _sessions = new(ReferenceEqualityComparer.Instance);

    /// <summary>The features of a session, if known.</summary>
    public HashSet<string>? Features(IClientSession session) => _sessions.TryGetValue(session, out var f) ? f : null;

    /// <summary>Whether a session wants notifications of <paramref name="node"/>.</summary>
    public bool WantsNotify(IClientSession session, string node) =>
        _sessions.TryGetValue(session, out var features) && features.Contains(node + "+notify");

    /// <summary>The features for a verified ver, if cached.</summary>
    public bool TryGetVerified(string ver, out HashSet<string> features) => _verified.TryGetValue(ver, out features!);

    /// <summary>Records a session's features.</summary>
    public void Set(IClientSession session, HashSet<string> features) => _sessions[session] = features;

    /// <summary>Caches features under a verified ver.</summary>
    public void Cache(string ver, HashSet<string> features) => _verified.TryAdd(ver, features);

    /// <summary>Forgets a session.</summary>
    public void Forget(IClientSession session) => _sessions.TryRemove(session, out _);

    /// <summary>The features listed in a disco#info result.</summary>
    public static HashSet<string> FeaturesOf(Element query) => CapsVerification.FeaturesOf(query);

    /// <summary>XEP-0115 §5.1 and §5.4: the verification string of a disco#info result.</summary>
    public static string? Ver(Element query, string hash) => CapsVerification.Ver(query, hash);
}
