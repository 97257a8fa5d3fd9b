namespace Parley.Server.Storage;

/// <summary>The storage back end: accounts, and elements by (account, key); the archive shape joins when a module needs it.</summary>
public interface IStorage : IAsyncDisposable
{
    /// <summary>Accounts and credentials.</summary>
    IAccountStore Accounts { get; }

    /// <summary>The map store of this name (for example "roster").</summary>
    IMapStore Map(string name);

    /// <summary>Opens the store and brings its schema up to date.</summary>
    Task InitializeAsync(CancellationToken ct);
}
