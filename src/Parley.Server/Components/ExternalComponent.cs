using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Components;

/// <summary>
/// One configured external component (XEP-0114): its domain is served by this object for as long as the server
/// runs, whether the component is connected or not, so that the router treats it like an internal service. While
/// it is connected, stanzas for its domain go down its stream; while it is not, they are bounced with
/// service-unavailable. It is also the origin of the stanzas the component sends, so replies go back to it.
/// </summary>
public sealed class ExternalComponent : IComponent, ISession
{
    private readonly byte[] _secret;
    private readonly Lock _gate = new();
    private readonly ILogger _log;
    private ComponentStream? _stream;

    internal ExternalComponent(string domain, string secret, ILogger log)
    {
        Jid = Jid.Create(null, domain);
        _secret = Encoding.UTF8.GetBytes(secret);
        _log = log;
    }

    /// <summary>The component's domain.</summary>
    public string Domain => Jid.Domain;

    /// <inheritdoc />
    public Jid Jid { get; }

    /// <summary>Whether the component is connected and has completed the handshake.</summary>
    public bool IsConnected => Volatile.Read(ref _stream) is not null;

    internal ComponentStream? Stream => Volatile.Read(ref _stream);

    /// <summary>
    /// XEP-0114 §3: the handshake is the hex SHA-1 of the stream id followed by the secret. The digests are compared
    /// in constant time; the hex case does not matter.
    /// </summary>
    internal bool Verify(string streamId, string? handshake)
    {
        var idBytes = Encoding.UTF8.GetBytes(streamId);
        var input = new byte[idBytes.Length + _secret.Length];
        idBytes.CopyTo(input, 0);
        _secret.CopyTo(input, idBytes.Length);
#pragma warning disable CA5350 // XEP-0114 defines the handshake with SHA-1.
        var expected = SHA1.HashData(input);
#pragma warning restore CA5350
        CryptographicOperations.ZeroMemory(input);
        byte[] given;
        try
        {
            given = Convert.FromHexString((handshake ?? "").Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>
    /// Makes <paramref name="stream"/> the component's connection, with <paramref name="first"/> queued before anything
    /// routed to it; false when another stream already holds the domain (XEP-0114 §3: conflict).
    /// </summary>
    internal bool TryAttach(ComponentStream stream, Element first)
    {
        lock (_gate)
        {
            if (_stream is not null) return false;
            if (!stream.Enqueue(first)) return false;
            Volatile.Write(ref _stream, stream);
            return true;
        }
    }

    internal void Detach(ComponentStream stream)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_stream, stream)) Volatile.Write(ref _stream, null);
        }
    }

    /// <inheritdoc />
    public ValueTask HandleAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        if (Volatile.Read(ref _stream)?.Enqueue(stanza.Element) == true) return ValueTask.CompletedTask;
        // The component is away (or could not keep up): requests and messages get service-unavailable; answers and
        // unavailable presence have nobody left to tell.
        ComponentLog.NotConnected(_log, Domain, stanza.Element.LocalName, stanza.Id);
        if (stanza.Kind == StanzaKind.Iq ? stanza.IqType is IqType.Get or IqType.Set : stanza.Type != "unavailable")
            Router.Bounce(stanza, StanzaError.ServiceUnavailable, origin);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public bool TryDeliver(Element stanza) => Volatile.Read(ref _stream)?.Enqueue(stanza) == true;
}
