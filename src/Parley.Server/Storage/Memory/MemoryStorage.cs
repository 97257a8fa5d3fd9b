using System.Collections.Concurrent;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Server.Storage.Memory;

/// <summary>Storage in memory, for tests: nothing survives the process.</summary>
public sealed class MemoryStorage : IStorage, IAccountStore
{
    private readonly ConcurrentDictionary<Jid, Account> _accounts = new();
    private readonly ConcurrentDictionary<string, MemoryMapStore> _maps = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public IMapStore Map(string name) => _maps.GetOrAdd(name, _ => new MemoryMapStore());

    /// <inheritdoc />
    public IAccountStore Accounts => this;

    /// <inheritdoc />
    public IArchiveStore Archive { get; } = new MemoryArchiveStore();

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<bool> CreateAsync(Account account, CancellationToken ct) =>
        Task.FromResult(_accounts.TryAdd(account.Jid.Bare, account with { Jid = account.Jid.Bare }));

    /// <inheritdoc />
    public Task<Account?> GetAsync(Jid account, CancellationToken ct) =>
        Task.FromResult(_accounts.TryGetValue(account.Bare, out var a) ? a : null);

    /// <inheritdoc />
    public Task<bool> SetCredentialsAsync(Jid account, IReadOnlyList<ScramCredential> credentials, CancellationToken ct)
    {
        while (_accounts.TryGetValue(account.Bare, out var current))
            if (_accounts.TryUpdate(account.Bare, current with { Credentials = credentials }, current)) return Task.FromResult(true);
        return Task.FromResult(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(Jid account, CancellationToken ct) => Task.FromResult(_accounts.TryRemove(account.Bare, out _));

    /// <inheritdoc />
    public Task<IReadOnlyList<Jid>> ListAsync(string domain, CancellationToken ct)
    {
        var list = new List<Jid>();
        foreach (var jid in _accounts.Keys)
            if (jid.Domain == domain) list.Add(jid);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Local, b.Local));
        return Task.FromResult<IReadOnlyList<Jid>>(list);
    }

    /// <inheritdoc />
    public async Task<int> CountAsync(string domain, CancellationToken ct) => (await ListAsync(domain, ct).ConfigureAwait(false)).Count;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
