using Parley.Protocol;
using Parley.Server.Connections;

namespace Parley.Server.Modules.Tls;

/// <summary>RFC 6120 §5: STARTTLS, required unless plaintext is explicitly allowed on loopback.</summary>
public sealed class TlsModule : IModule
{
    private static readonly QName StartTls = new(Ns.Tls, "starttls");

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("tls", Xeps: [368], Required: true);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.StreamFeature(Stage.PreTls, stream =>
        {
            var feature = new Element(StartTls);
            if (!(stream is XmppStream s && s.PlaintextAllowed)) feature.Add(new Element("required", Ns.Tls));
            return feature;
        });
        m.OnStreamElement(StartTls, Stage.PreTls, async (element, stream, ct) =>
        {
            // §5.4.2.3: proceed, then the TLS handshake on the same connection.
            await stream.SendAsync(new Element("proceed", Ns.Tls), ct).ConfigureAwait(false);
            stream.StartTls();
        });
    }
}
