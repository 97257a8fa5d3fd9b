using Microsoft.Data.Sqlite;

namespace Parley.Server.Storage.Sql;

/// <summary>
/// One open connection to parley.db and the statements prepared on it, lent by <see cref="SqlitePool"/> to one
/// operation at a time. A statement is parsed once (sqlite3_prepare) and then only rebound, which is most of what a
/// small query costs; the connection's PRAGMAs run once when it opens, not on every operation.
/// Dispose hands the session back to its pool (as disposing a pooled ADO.NET connection does).
/// </summary>
internal sealed class SqliteSession : IDisposable
{
    // Distinct statements kept per connection. The fixed ones are about twenty; archive queries add one per
    // combination of filters (and IN lists of ids), so beyond this a statement is prepared for one use, as before.
    internal const int MaxStatements = 64;

    private readonly SqlitePool _pool;
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private readonly List<SqliteCommand> _transient = [];
    private int _rented;

    private SqliteSession(SqlitePool pool, SqliteConnection connection)
    {
        _pool = pool;
        Connection = connection;
    }

    public SqliteConnection Connection { get; }

    internal static SqliteSession Open(SqlitePool pool, string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
            command.ExecuteNonQuery();
            return new SqliteSession(pool, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The prepared command for <paramref name="sql"/>, bound to <paramref name="transaction"/> (null outside one)
    /// and to exactly these parameters. The caller must not dispose it; it stays with the session.
    /// </summary>
    public SqliteCommand Command(string sql, SqliteTransaction? transaction, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        if (!_statements.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            try
            {
                command.Prepare();
            }
            catch
            {
                command.Dispose();
                throw;
            }
            if (_statements.Count < MaxStatements) _statements.Add(sql, command);
            else _transient.Add(command);
        }
        // Microsoft.Data.Sqlite refuses a command whose transaction is not the connection's current one.
        command.Transaction = transaction;
        Bind(command.Parameters, parameters);
        return command;
    }

    /// <summary>The command for <paramref name="sql"/> outside a transaction.</summary>
    public SqliteCommand Command(string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) => Command(sql, null, parameters);

    // The same names in the same order (every call site of one statement): set the values, no allocation.
    // Anything else: replace the collection, so a value from an earlier use can never be bound by mistake.
    private static void Bind(SqliteParameterCollection bound, ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var same = bound.Count == parameters.Length;
        for (var i = 0; same && i < parameters.Length; i++)
            same = string.Equals(bound[i].ParameterName, parameters[i].Name, StringComparison.Ordinal);
        if (same)
        {
            for (var i = 0; i < parameters.Length; i++) bound[i].Value = parameters[i].Value ?? DBNull.Value;
            return;
        }
        bound.Clear();
        foreach (var (name, value) in parameters) bound.AddWithValue(name, value ?? DBNull.Value);
    }

    /// <summary>Number of statements kept prepared (for tests).</summary>
    internal int PreparedCount => _statements.Count;

    /// <summary>Marks the session lent; false if it already was (a bug in the pool).</summary>
    internal bool TryRent() => Interlocked.Exchange(ref _rented, 1) == 0;

    /// <summary>
    /// Ends the operation: one-use statements are finalized. True if the connection is fit to lend again: open,
    /// and not left inside a transaction (every transaction is disposed, so rolled back, before the session is).
    /// </summary>
    internal bool EndUse()
    {
        foreach (var command in _transient) command.Dispose();
        _transient.Clear();
        return Connection.State == System.Data.ConnectionState.Open && SQLitePCL.raw.sqlite3_get_autocommit(Connection.Handle) != 0;
    }

    /// <summary>Hands the session back to its pool. A second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, 0) == 1) _pool.Return(this);
    }

    /// <summary>Finalizes the statements and closes the connection.</summary>
    internal void Close()
    {
        foreach (var command in _statements.Values) command.Dispose();
        foreach (var command in _transient) command.Dispose();
        _statements.Clear();
        _transient.Clear();
        Connection.Dispose();
    }
}
