namespace Parley.Server.Storage.Sql;

/// <summary>
/// The open connections of one <see cref="SqliteStorage"/>, each with its prepared statements. An operation rents a
/// session, uses it alone and disposes it, which hands it back. At most <c>maxIdle</c> sessions are kept; when more
/// operations run at once the extra ones open a connection of their own and close it afterwards, so nothing ever
/// waits for a session. Reads run side by side (WAL); writes are serialized by <see cref="SqliteStorage.WriteLock"/>.
/// </summary>
internal sealed class SqlitePool(string connectionString, int maxIdle) : IDisposable
{
    private readonly Stack<SqliteSession> _idle = new();
    private readonly Lock _lock = new();
    private int _open;
    private bool _disposed;

    /// <summary>Connections open now, lent or idle (for tests and diagnostics).</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>Sessions waiting to be lent (for tests).</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock) return _idle.Count;
        }
    }

    /// <summary>A session for one operation; dispose it when done. After <see cref="Dispose"/>, a fresh one closed on return.</summary>
    public SqliteSession Rent()
    {
        SqliteSession? session;
        lock (_lock) _idle.TryPop(out session);
        if (session is null)
        {
            session = SqliteSession.Open(this, connectionString);
            Interlocked.Increment(ref _open);
        }
        if (!session.TryRent()) throw new InvalidOperationException("A SQLite session was lent twice.");
        return session;
    }

    // Called by SqliteSession.Dispose once per rental.
    internal void Return(SqliteSession session)
    {
        if (session.EndUse())
        {
            lock (_lock)
            {
                if (!_disposed && _idle.Count < maxIdle)
                {
                    _idle.Push(session);
                    return;
                }
            }
        }
        Close(session);
    }

    /// <summary>Closes the idle connections; the lent ones close when they come back.</summary>
    public void Dispose()
    {
        SqliteSession[] idle;
        lock (_lock)
        {
            _disposed = true;
            idle = _idle.ToArray();
            _idle.Clear();
        }
        foreach (var session in idle) Close(session);
    }

    private void Close(SqliteSession session)
    {
        session.Close();
        Interlocked.Decrement(ref _open);
    }
}
