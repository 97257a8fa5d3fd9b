using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Admin;

/// <summary>
/// The server log's last lines, kept in memory for the "log tail" command (CLI, REST, web console). A logger
/// provider beside the console one: same filters, a ring of at most <see cref="Capacity"/> lines.
/// </summary>
public sealed class RecentLog : ILoggerProvider
{
    private readonly string[] _lines;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private long _written;

    /// <summary>A ring of the given size.</summary>
    public RecentLog(int capacity, TimeProvider time)
    {
        _lines = new string[Math.Max(1, capacity)];
        _time = time;
    }

    /// <summary>How many lines are kept.</summary>
    public int Capacity => _lines.Length;

    /// <summary>The last lines, oldest first (at most <paramref name="count"/>).</summary>
    public List<string> Tail(int count)
    {
        lock (_lock)
        {
            var available = (int)Math.Min(_written, _lines.Length);
            var n = Math.Min(Math.Max(0, count), available);
            var list = new List<string>(n);
            for (var i = _written - n; i < _written; i++) list.Add(_lines[i % _lines.Length]);
            return list;
        }
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Writer(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void Add(string line)
    {
        lock (_lock)
        {
            _lines[_written % _lines.Length] = line;
            _written++;
        }
    }

    private sealed class Writer(RecentLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = formatter(state, exception);
            if (exception is not null) text = text + " (" + exception.GetType().Name + ": " + exception.Message + ")";
            log.Add(string.Create(CultureInfo.InvariantCulture, $"{log._time.GetUtcNow():yyyy-MM-dd HH:mm:ss} {Level(logLevel)} {category}: {text}"));
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
