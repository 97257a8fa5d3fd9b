using System.Net;
using Parley.Client;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Interop.Tests.Federation;

/// <summary>
/// Federation with Debian's ejabberd (see <see cref="RemoteServerFederationTests"/>): ejabberd finds Parley's domain
/// through the test's name server (an SRV record), and authenticates by dialback (mod_s2s_dialback).
/// </summary>
public class EjabberdFederationTests : RemoteServerFederationTests
{
    private readonly EjabberdServer _ejabberd = new();
    private readonly TestDns _dns = new();

    public EjabberdFederationTests() : this(certificates: false)
    {
    }

    /// <summary>With certificates from a test CA on both sides, trusted by both: SASL EXTERNAL instead of dialback.</summary>
    protected EjabberdFederationTests(bool certificates) : base(certificates)
    {
    }

    protected override string RemoteDomain => EjabberdServer.Domain;

    protected override int RemoteS2sPort => _ejabberd.S2sPort;

    protected override (string Bare, string Resource) RemoteAccount => (EjabberdServer.User + "@" + EjabberdServer.Domain, "ejabberd");

    protected override Task StartRemoteAsync(IPAddress parley, TestCa? ca)
    {
        // ejabberd asks its name servers (inet_res) for SRV records only and resolves the target with getaddrinfo,
        // which reads the system's hosts file: the target is an address literal, which needs no lookup.
        _dns.Service("_xmpp-server._tcp." + Domain, (0, 0, 5269, parley.ToString()));
        return _ejabberd.StartAsync(_dns.EndPoint, ca);
    }

    protected override async Task StopRemoteAsync()
    {
        await _ejabberd.DisposeAsync();
        await _dns.DisposeAsync();
    }

    protected override XmppClient RemoteUser() => new(_ejabberd.Options("ejabberd") with { Raw = true });

    protected override string RemoteLog() => _ejabberd.Log() + "\nDNS questions: " + string.Join(", ", _dns.Asked);
}

/// <summary>The same with certificates from a test CA (XEP-0178), without mod_s2s_dialback: SASL EXTERNAL both ways.</summary>
public sealed class EjabberdFederationWithCertificatesTests : EjabberdFederationTests
{
    public EjabberdFederationWithCertificatesTests() : base(certificates: true)
    {
    }
}
