using System.Net;
using Parley.Client;
using Parley.Interop.Tests.ClientLibrary;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Interop.Tests.Federation;

/// <summary>
/// Federation with Debian's prosody (see <see cref="RemoteServerFederationTests"/>): prosody resolves Parley's domain
/// through a hosts file given to its resolver (libunbound), and authenticates by dialback.
/// </summary>
public class ProsodyFederationTests : RemoteServerFederationTests
{
    private ProsodyTarget? _target;

    private ProsodyTarget Prosody => _target ?? throw new InvalidOperationException("prosody has not started");

    public ProsodyFederationTests() : this(certificates: false)
    {
    }

    /// <summary>With certificates from a test CA on both sides, trusted by both: SASL EXTERNAL instead of dialback.</summary>
    protected ProsodyFederationTests(bool certificates) : base(certificates)
    {
    }

    protected override string RemoteDomain => Prosody.Domain;

    protected override int RemoteS2sPort => Prosody.S2sPort;

    protected override (string Bare, string Resource) RemoteAccount => ("suba@" + Prosody.Domain, "prosody");

    protected override async Task StartRemoteAsync(IPAddress parley, TestCa? ca)
    {
        _target = new ProsodyTarget(new ProsodyFederation([(parley.ToString(), Domain)], SecureAuth: ca is not null,
            Issue: ca is null ? null : ca.Issue, CaFile: ca?.CertificatePath));
        await _target.InitializeAsync();
    }

    protected override Task StopRemoteAsync() => _target?.DisposeAsync() ?? Task.CompletedTask;

    protected override XmppClient RemoteUser() =>
        new(Prosody.Options("suba", "prosody") with { Raw = true, IqTimeout = TimeSpan.FromSeconds(20) });

    protected override string RemoteLog() => Prosody.Log();
}

/// <summary>The same with certificates from a test CA (XEP-0178): prosody with s2s_secure_auth, SASL EXTERNAL both ways.</summary>
public sealed class ProsodyFederationWithCertificatesTests : ProsodyFederationTests
{
    public ProsodyFederationWithCertificatesTests() : base(certificates: true)
    {
    }
}
