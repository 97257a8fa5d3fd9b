using Parley.Protocol;

namespace Parley.Server.Storage;

/// <summary>Elements by (account, key): rosters, private XML, vCards. One store per name.</summary>
public interface IMapStore
{
    /// <summary>The element under a key, or null.</summary>
    Task<Element?> GetAsync(Jid account, string key, CancellationToken ct);

    /// <summary>Every key and element of an account.</summary>
    Task<IReadOnlyDictionary<string, Element>> GetAllAsync(Jid account, CancellationToken ct);

    /// <summary>Stores an element under a key; null deletes it.</summary>
    Task SetAsync(Jid account, string key, Element? value, CancellationToken ct);

    /// <summary>How many keys an account has.</summary>
    Task<int> CountAsync(Jid account, CancellationToken ct);

    /// <summary>How many keys all accounts have together (for metrics: the offline queue, say).</summary>
    Task<long> CountAllAsync(CancellationToken ct);

    /// <summary>Deletes everything of an account.</summary>
    Task DeleteAllAsync(Jid account, CancellationToken ct);
}
