using System.Collections.Concurrent;

namespace Parley.Server.Connections;

/// <summary>Every open client stream, bound or not: for shutdown, the heartbeat and admin views.</summary>
public sealed class StreamRegistry
{
    private readonly ConcurrentDictionary<XmppStream, byte> _streams = new();

    /// <summary>How many streams are open.</summary>
    public int Count => _streams.Count;

    internal void Add(XmppStream stream) => _streams.TryAdd(stream, 0);

    internal void Remove(XmppStream stream) => _streams.TryRemove(stream, out _);

    internal ICollection<XmppStream> Snapshot() => _streams.Keys;
}
