namespace Parley.Server.Storage;

/// <summary>The storage back end: accounts now; the key-value, map and archive shapes join as modules need them.</summary>
public interface IStorage : IAsyncDisposable
{
    /// <summary>Accounts and credentials.</summary>
    IAccountStore Accounts { get; }

    /// <summary>Opens the store and brings its schema up to date.</summary>
    Task InitializeAsync(CancellationToken ct);
}
