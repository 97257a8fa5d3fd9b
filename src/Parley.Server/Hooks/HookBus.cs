using Microsoft.Extensions.Logging;

namespace Parley.Server.Hooks;

/// <summary>Runs hook handlers by descending priority; a failing handler is logged and skipped.</summary>
public sealed partial class HookBus(ILogger<HookBus> log)
{
    private readonly Dictionary<Type, object> _handlers = [];

    internal void Add<T>(Func<T, CancellationToken, ValueTask> handler, int priority, string owner) where T : IHook
    {
        lock (_handlers)
        {
            var list = _handlers.TryGetValue(typeof(T), out var existing)
                ? new List<Entry<T>>((Entry<T>[])existing)
                : [];
            list.Add(new Entry<T>(handler, priority, owner));
            list.Sort(static (a, b) => b.Priority.CompareTo(a.Priority));
            _handlers[typeof(T)] = list.ToArray();
        }
    }

    /// <summary>Runs every handler of <typeparamref name="T"/>.</summary>
    public async ValueTask RunAsync<T>(T hook, CancellationToken ct) where T : IHook
    {
        Entry<T>[]? entries;
        lock (_handlers) entries = _handlers.TryGetValue(typeof(T), out var e) ? (Entry<T>[])e : null;
        if (entries is null) return;
        foreach (var entry in entries)
        {
            try
            {
                await entry.Handler(hook, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                LogHandlerFailed(log, typeof(T).Name, entry.Owner, e);
            }
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Error, Message = "Hook {Hook} handler of module {Module} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string hook, string module, Exception exception);

    private sealed record Entry<T>(Func<T, CancellationToken, ValueTask> Handler, int Priority, string Owner);
}
