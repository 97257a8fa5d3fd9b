using Parley.Client;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Interop.Tests.Federation;

/// <summary>
/// Parley's client library against Debian's ejabberd 23.01 as a client would meet it: STARTTLS, then SCRAM with the
/// library's default mechanism preference. ejabberd offers the -PLUS mechanisms but no XEP-0440 list of
/// channel-binding types, and binds only with tls-unique.
/// </summary>
public sealed class EjabberdClientTests : IAsyncLifetime
{
    private readonly EjabberdServer _ejabberd = new();
    private readonly TestDns _dns = new();

    public Task InitializeAsync() => _ejabberd.StartAsync(_dns.EndPoint, ca: null);

    public async Task DisposeAsync()
    {
        await _ejabberd.DisposeAsync();
        await _dns.DisposeAsync();
    }

    // XEP-0440 §3 rule 4: with SASL1, -PLUS offered and no binding types listed, the client may try any binding.
    // RFC 5802 §6 and RFC 5929 make tls-unique the default binding, so that is the one to try first.
    [Fact]
    public async Task Default_mechanisms_log_in_with_the_default_binding_tls_unique_when_no_XEP_0440_list_is_offered()
    {
        // The library's defaults: every mechanism, -PLUS first.
        await using var client = new XmppClient(_ejabberd.Options("library"));
        try
        {
            await client.ConnectAsync();
        }
        catch (Exception e)
        {
            Assert.Fail($"login failed ({e.GetType().Name}: {e.Message}); ejabberd's log:\n{_ejabberd.Log()}");
        }
        Assert.EndsWith("-PLUS", client.Mechanism, StringComparison.Ordinal);
        Assert.Equal("tls-unique", client.ChannelBindingType);
        Assert.Equal(EjabberdServer.User + "@" + EjabberdServer.Domain, client.BoundJid.Bare.ToString());
    }
}
