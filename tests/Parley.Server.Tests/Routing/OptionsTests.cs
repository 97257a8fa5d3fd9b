using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Parley.Server.Tests.Routing;

public sealed class OptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(new ParleyOptions().Validate());
    }

    [Theory]
    [InlineData("Domain", "not a domain", "Domain")]
    [InlineData("C2s:Port", "70000", "C2s:Port")]
    [InlineData("C2s:Address", "nowhere", "C2s:Address")]
    [InlineData("S2s:Port", "70000", "S2s:Port")]
    [InlineData("S2s:Routes:b.example", "no-port", "S2s:Routes:b.example")]
    [InlineData("S2s:DialbackSecret", "short", "S2s:DialbackSecret")]
    [InlineData("S2s:IdleSeconds", "1", "S2s:IdleSeconds")]
    [InlineData("S2s:DirectTlsPort", "5269", "S2s:DirectTlsPort")]
    [InlineData("Limits:MaxStanzaBytes", "100", "Limits:MaxStanzaBytes")]
    [InlineData("Auth:ScramIterations", "10", "Auth:ScramIterations")]
    [InlineData("Storage", "oracle", "Storage")]
    [InlineData("SqliteConnections", "0", "SqliteConnections")]
    [InlineData("Limits:KeepaliveSeconds", "100000", "Limits:KeepaliveSeconds")]
    [InlineData("WebSocket:AllowedOrigins:0", "chat.example.org", "WebSocket:AllowedOrigins")]
    [InlineData("Bosh:AllowedOrigins:0", "https://chat.example.org/page", "Bosh:AllowedOrigins")]
    [InlineData("Bosh:WaitSeconds", "0", "Bosh:WaitSeconds")]
    [InlineData("Bosh:HoldMax", "100", "Bosh:HoldMax")]
    [InlineData("Bosh:MaxSessions", "0", "Bosh:MaxSessions")]
    [InlineData("Bosh:MaxBodyBytes", "100", "Bosh:MaxBodyBytes")]
    [InlineData("Bosh:PublicUrl", "wss://example.org/http-bind", "Bosh:PublicUrl")]
    public void A_bad_value_is_reported_with_its_key(string key, string value, string named)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
        var e = Assert.Throws<OptionsValidationException>(() => ParleyServer.BindOptions(configuration));
        Assert.Contains(e.Failures, f => f.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void A_value_that_does_not_convert_is_reported_with_its_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Limits:MaxDepth", "deep")]).Build();
        var e = Assert.Throws<OptionsValidationException>(() => ParleyServer.BindOptions(configuration));
        Assert.Contains(e.Failures, f => f.Contains("Limits:MaxDepth", StringComparison.Ordinal));
    }
}
