using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Offline;

/// <summary>
/// XEP-0160: chat and normal messages for an account with no available resource are stored (durably, with a
/// XEP-0203 delay stamp) and delivered, oldest first, when a resource sends initial presence with a
/// non-negative priority. Beyond the per-account quota the sender gets resource-constraint.
/// </summary>
public sealed class OfflineModule(IStorage storage, Addresses addresses, TimeProvider time, IOptions<ParleyOptions> options) : IModule
{
    /// <summary>The map store holding the messages (metrics count it).</summary>
    internal const string StoreName = "offline";

    private readonly IMapStore _store = storage.Map(StoreName);
    private readonly SemaphoreSlim[] _flushLocks = [.. Enumerable.Range(0, 32).Select(_ => new SemaphoreSlim(1, 1))];
    private long _sequence;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("offline", Xeps: [160, 203]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.OfflineMessages);
        m.Hook<OfflineMessage>(StoreAsync);
        m.Hook<InitialPresence>(DeliverAsync);
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(_store.DeleteAllAsync(e.Account, ct)));
    }

    private async ValueTask StoreAsync(OfflineMessage offline, CancellationToken ct)
    {
        // RFC 6121 §8.5.2.2.1 / §8.5.1: only existing accounts have offline storage.
        if (await storage.Accounts.GetAsync(offline.Account, ct).ConfigureAwait(false) is null) return;
        if (await _store.CountAsync(offline.Account, ct).ConfigureAwait(false) >= options.Value.Limits.MaxOfflineMessages)
        {
            offline.Refusal = StanzaError.ResourceConstraint("The recipient's offline storage is full");
            return;
        }
        var now = time.GetUtcNow();
        var message = offline.Stanza.Element.Clone();
        // XEP-0203 §3: when and by whom the delivery was delayed.
        message.Add(new Element("delay", Ns.Delay)
            .SetAttribute("from", addresses.Domain)
            .SetAttribute("stamp", now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .AddText("Offline storage"));
        // Keys sort by arrival: time, then a counter for messages within one tick, then a random part so that keys
        // from before a restart (when the counter started again) never collide.
        var key = now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + Interlocked.Increment(ref _sequence).ToString("D12", CultureInfo.InvariantCulture)
            + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        await _store.SetAsync(offline.Account, key, message, ct).ConfigureAwait(false);
        offline.Stored = true;
    }

    private async ValueTask DeliverAsync(InitialPresence e, CancellationToken ct)
    {
        var session = e.Session;
        if (session.Presence.Priority < 0) return;     // XEP-0160 §3: negative priority gets none
        var account = session.Jid.Bare;
        // One flush per account at a time: two resources coming online together do not both get every message.
        var gate = _flushLocks[(account.GetHashCode() & int.MaxValue) % _flushLocks.Length];
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var stored = await _store.GetAllAsync(account, ct).ConfigureAwait(false);
            if (stored.Count == 0) return;
            var keys = new List<string>(stored.Keys);
            keys.Sort(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                // Removed only once the session has taken it: a message is never dropped on the way.
                if (!session.TryDeliver(stored[key])) return;
                await _store.SetAsync(account, key, null, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
