using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Connections;

/// <summary>Logs say what happened, at Information, and never carry a password or a message body.</summary>
public sealed class LoggingTests
{
    private sealed class ListLogger(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {formatter(state, exception)} {exception}");
        public void Dispose() { }
    }

    // Runs a server that logs everything at Trace for as long as the body runs; returns every log line.
    private static async Task<string> LogOfAsync(Dictionary<string, string?> settings, Func<ParleyServer, Task> body)
    {
        var lines = new ConcurrentQueue<string>();
        var data = Path.Combine(Path.GetTempPath(), "parley-log-" + Guid.NewGuid().ToString("N"));
        settings["Domain"] = TestServer.Domain;
        settings["DataDirectory"] = data;
        settings["Storage"] = "memory";
        settings.TryAdd("S2s:Enabled", "false");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var server = ParleyServer.Create(configuration, logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new ListLogger(lines)));
        await server.StartAsync();
        try
        {
            await body(server);
        }
        finally
        {
            await server.StopAsync();
            await server.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
        return string.Join("\n", lines);
    }

    [Fact]
    public async Task Trace_logging_records_sessions_but_no_secret_and_no_body()
    {
        const string secret = "a-secret-password-9731";
        const string body = "a-private-message-body-5521";
        var all = await LogOfAsync(new()
        {
            ["C2s:Address"] = "127.0.0.1", ["C2s:Port"] = "0", ["C2sDirectTls:Enabled"] = "false", ["Upload:Enabled"] = "false", ["Upload:Address"] = "127.0.0.1", ["Upload:Port"] = "0",
            ["Auth:ScramIterations"] = "4096", ["Auth:FailureDelayMilliseconds"] = "0",
        }, async server =>
        {
            var accounts = server.Services.GetRequiredService<Accounts>();
            await accounts.CreateAsync(Jid.Parse("alice@example.test"), secret, CancellationToken.None);
            var certificate = server.Services.GetRequiredService<Parley.Server.Connections.TlsCertificateProvider>().Certificate.RawData;
            foreach (var mechanism in new[] { "PLAIN", "SCRAM-SHA-256" })
            {
                await using var client = new XmppClient(new XmppClientOptions
                {
                    Jid = Jid.Parse("alice@example.test/log"), Password = secret, Host = "127.0.0.1", Port = server.Port("c2s"),
                    Mechanisms = [mechanism], CertificateValidation = (_, c, _, _) => c!.GetRawCertData().AsSpan().SequenceEqual(certificate),
                });
                await client.ConnectAsync();
                await client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", client.BoundJid.ToString()).SetAttribute("id", "m1")
                    .Add(new Element("body", Ns.Client).AddText(body)));
                using var timeout = new CancellationTokenSource(5000);
                await client.ReceiveAsync(timeout.Token);
            }
            await using var wrong = new XmppClient(new XmppClientOptions
            {
                Jid = Jid.Parse("alice@example.test"), Password = secret + "-wrong", Host = "127.0.0.1", Port = server.Port("c2s"),
                Mechanisms = ["PLAIN"], CertificateValidation = (_, c, _, _) => c!.GetRawCertData().AsSpan().SequenceEqual(certificate),
            });
            await Assert.ThrowsAsync<XmppAuthenticationException>(() => wrong.ConnectAsync());
        });
        Assert.Contains("authenticated alice@example.test with PLAIN", all, StringComparison.Ordinal);
        Assert.Contains("bound alice@example.test/log", all, StringComparison.Ordinal);
        Assert.Contains("failed authentication", all, StringComparison.Ordinal);
        Assert.Contains("in: message id=m1", all, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(body, all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Component_handshakes_are_logged_without_the_secret_or_a_body()
    {
        const string secret = "a-component-secret-4417";
        const string body = "a-gateway-message-body-8830";
        var all = await LogOfAsync(new()
        {
            ["C2s:Enabled"] = "false", ["C2sDirectTls:Enabled"] = "false", ["Upload:Enabled"] = "false", ["WebSocket:Enabled"] = "false", ["Bosh:Enabled"] = "false",
            ["Components:Address"] = "127.0.0.1", ["Components:Port"] = "0",
            ["Components:List:0:Domain"] = "irc.example.test", ["Components:List:0:Secret"] = secret,
        }, async server =>
        {
            XmppClient Component(string password) => new(new XmppClientOptions
            {
                Jid = Jid.Parse("irc.example.test"), Password = password, Component = true, Host = "127.0.0.1",
                Port = server.Port("components"), Raw = true,
            });
            await using (var wrong = Component(secret + "-wrong"))
                await Assert.ThrowsAnyAsync<Exception>(() => wrong.ConnectAsync());
            await using (var component = Component(secret))
            {
                await component.ConnectAsync();
                await component.SendRawAsync($"<message from='bot@irc.example.test' to='irc.example.test' id='g1'><body>{body}</body></message>");
                using var timeout = new CancellationTokenSource(5000);
                await component.ReceiveAsync(timeout.Token);
            }
        });
        Assert.Contains("failed the handshake for irc.example.test", all, StringComparison.Ordinal);
        Assert.Contains("connected irc.example.test", all, StringComparison.Ordinal);
        Assert.Contains("in: message id=g1", all, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(body, all, StringComparison.Ordinal);
    }
}
