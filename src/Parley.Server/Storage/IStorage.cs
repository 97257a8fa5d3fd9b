namespace Parley.Server.Storage;

/// <summary>The storage back end: accounts, elements by (account, key), and the message archive.</summary>
public interface IStorage : IAsyncDisposable
{
    /// <summary>Accounts and credentials.</summary>
    IAccountStore Accounts { get; }

    /// <summary>The message archive (XEP-0313).</summary>
    IArchiveStore Archive { get; }

    /// <summary>The map store of this name (for example "roster").</summary>
    IMapStore Map(string name);

    /// <summary>Opens the store and brings its schema up to date.</summary>
    Task InitializeAsync(CancellationToken ct);
}
