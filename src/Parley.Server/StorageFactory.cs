using Parley.Server.Storage;

namespace Parley.Server;

/// <summary>Creates the storage back end the options name.</summary>
internal static class StorageFactory
{
    public static IStorage Create(ParleyOptions options, IServiceProvider services) => options.Storage switch
    {
        "memory" => new Storage.Memory.MemoryStorage(),
        _ => new Storage.Sql.SqliteStorage(options.DataDirectory, options.SqliteConnections),
    };
}
