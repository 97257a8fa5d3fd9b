using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Roster;

/// <summary>
/// The rosters: items by (account, contact), a version counter per account (RFC 6121 §2.6), the set of
/// interested resources (§2.1.6), and one change operation that stores, bumps the version and pushes. The roster
/// and subscription modules both change items through it, under one lock per account.
/// </summary>
public sealed class RosterStore(IStorage storage, SessionRegistry sessions)
{
    private const string VersionKey = "version";
    private readonly IMapStore _items = storage.Map("roster");
    private readonly IMapStore _meta = storage.Map("roster.meta");
    private readonly ConcurrentDictionary<IClientSession, byte> _interested = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim[] _locks = CreateLocks(64);

    /// <summary>Marks a session as interested in pushes.</summary>
    public void Interested(IClientSession session) => _interested[session] = 0;

    /// <summary>Forgets a session.</summary>
    public void Forget(IClientSession session) => _interested.TryRemove(session, out _);

    /// <summary>One item, or null.</summary>
    public Task<Element?> GetAsync(Jid account, Jid contact, CancellationToken ct) => _items.GetAsync(account.Bare, contact.Bare.ToString(), ct);

    /// <summary>Every item of an account, by contact.</summary>
    public Task<IReadOnlyDictionary<string, Element>> GetAllAsync(Jid account, CancellationToken ct) => _items.GetAllAsync(account.Bare, ct);

    /// <summary>How many items an account has.</summary>
    public Task<int> CountAsync(Jid account, CancellationToken ct) => _items.CountAsync(account.Bare, ct);

    /// <summary>The account's roster version.</summary>
    public async Task<string> VersionAsync(Jid account, CancellationToken ct) =>
        (await _meta.GetAsync(account.Bare, VersionKey, ct).ConfigureAwait(false))?.Text ?? "0";

    /// <summary>
    /// Changes one item under the account's lock. <paramref name="change"/> gets the current item (or null) and
    /// returns the new one, null to remove it, or the same instance for no change. A change is stored, bumps the
    /// version and is pushed. Returns the item after the change.
    /// </summary>
    public async Task<Element?> ChangeAsync(Jid account, Jid contact, Func<Element?, Element?> change, CancellationToken ct)
    {
        account = account.Bare;
        var key = contact.Bare.ToString();
        var gate = _locks[(account.GetHashCode() & int.MaxValue) % _locks.Length];
        await gate.WaitAsync(ct).ConfigureAwait(false);
        Element? after;
        string version;
        try
        {
            var before = await _items.GetAsync(account, key, ct).ConfigureAwait(false);
            after = change(before);
            if (ReferenceEquals(after, before) || (after is null && before is null)) return before;
            await _items.SetAsync(account, key, after, ct).ConfigureAwait(false);
            var current = long.TryParse(await VersionAsync(account, ct).ConfigureAwait(false), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            version = (current + 1).ToString(CultureInfo.InvariantCulture);
            await _meta.SetAsync(account, VersionKey, new Element("version", "urn:parley:roster").AddText(version), ct).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
        Push(account, after ?? new Element("item", Ns.Roster).SetAttribute("jid", key).SetAttribute("subscription", "remove"), version);
        return after;
    }

    /// <summary>Deletes an account's roster.</summary>
    public async Task DeleteAllAsync(Jid account, CancellationToken ct)
    {
        await _items.DeleteAllAsync(account, ct).ConfigureAwait(false);
        await _meta.DeleteAllAsync(account, ct).ConfigureAwait(false);
    }

    // §2.1.6: a roster push to every resource that asked for the roster.
    private void Push(Jid account, Element item, string version)
    {
        foreach (var session in sessions.Resources(account))
        {
            if (!_interested.ContainsKey(session)) continue;
            var push = new Element("iq", Ns.Client)
                .SetAttribute("type", "set")
                .SetAttribute("id", "push-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)))
                .SetAttribute("to", session.Jid.ToString());
            push.Add(new RosterQuery(version, [item.Clone()]).ToElement());
            session.TryDeliver(push);
        }
    }

    private static SemaphoreSlim[] CreateLocks(int n)
    {
        var locks = new SemaphoreSlim[n];
        for (var i = 0; i < n; i++) locks[i] = new SemaphoreSlim(1, 1);
        return locks;
    }
}
