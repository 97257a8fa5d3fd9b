using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// A raw socket to the server for stream-level tests: send literal bytes, read until a marker or the close.
/// Every read is bounded by a timeout.
/// </summary>
public sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly StringBuilder _received = new();

    private RawConnection(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    public static async Task<RawConnection> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RawConnection(tcp, tcp.GetStream());
    }

    public string Received => _received.ToString();

    public Task SendAsync(string xml) => SendAsync(Encoding.UTF8.GetBytes(xml));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task StartTlsAsync(RemoteCertificateValidationCallback validation, SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = TestServer.Domain,
            RemoteCertificateValidationCallback = validation,
            EnabledSslProtocols = protocols,
        });
        _stream = ssl;
        _received.Clear();
    }

    /// <summary>Reads until the received text contains one of <paramref name="markers"/>.</summary>
    public async Task<string> ReadUntilAnyAsync(params string[] markers)
    {
        using var cts = new CancellationTokenSource(5000);
        var buffer = new byte[8192];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[8192];
        while (true)
        {
            var text = _received.ToString();
            foreach (var marker in markers)
                if (text.Contains(marker, StringComparison.Ordinal)) return text;
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("None of " + string.Join(", ", markers) + " arrived; got: " + text);
            }
            if (n == 0) throw new EndOfStreamException("Closed; got: " + text);
            _received.Append(chars, 0, decoder.GetChars(buffer, 0, n, chars, 0));
        }
    }

    /// <summary>Reads until the received text contains <paramref name="marker"/>; returns everything received so far.</summary>
    public async Task<string> ReadUntilAsync(string marker, int timeoutMs = 5000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var buffer = new byte[8192];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[8192];
        while (!_received.ToString().Contains(marker, StringComparison.Ordinal))
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Did not receive '{marker}' within {timeoutMs} ms; got: {_received}");
            }
            if (n == 0) throw new EndOfStreamException($"Closed before '{marker}'; got: {_received}");
            var c = decoder.GetChars(buffer, 0, n, chars, 0);
            _received.Append(chars, 0, c);
        }
        return _received.ToString();
    }

    /// <summary>Reads until the server closes the connection (bounded); returns everything received.</summary>
    public async Task<string> ReadToEndAsync(int timeoutMs = 5000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(buffer, cts.Token);
                if (n == 0) break;
                _received.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("The server did not close the connection; got: " + _received);
        }
        catch (IOException)
        {
            // Reset by the server after its close: that is a close too.
        }
        return _received.ToString();
    }

    public void ClearReceived() => _received.Clear();

    /// <summary>Drops the TCP connection with a reset, as a phone losing its network does: no closing tag, no TLS close.</summary>
    public void Cut()
    {
        _tcp.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        _tcp.Client.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}

/// <summary>Raw negotiation steps for tests that need to see the bytes.</summary>
public static class RawNegotiation
{
    public const string Header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.test' version='1.0'>";

    /// <summary>Opens a stream and completes STARTTLS; returns with the post-TLS features read (in Received).</summary>
    public static async Task<RawConnection> SecureAsync(TestServer server)
    {
        var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync(Header);
        await raw.ReadUntilAsync("</stream:features>");
        await raw.SendAsync("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        await raw.ReadUntilAsync("<proceed");
        await raw.StartTlsAsync(server.TrustServerCertificate());
        await raw.SendAsync(Header);
        await raw.ReadUntilAsync("</stream:features>");
        return raw;
    }

    /// <summary>Opens a stream, STARTTLS, PLAIN; returns with the features after authentication read (in Received).</summary>
    public static async Task<RawConnection> AuthenticateAsync(TestServer server, string user)
    {
        await server.EnsureAccountAsync(user);
        var raw = await SecureAsync(server);
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + user + "\0" + TestServer.Password));
        await raw.SendAsync($"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>");
        await raw.ReadUntilAsync("<success");
        raw.ClearReceived();
        await raw.SendAsync(Header);
        await raw.ReadUntilAsync("</stream:features>");
        return raw;
    }

    /// <summary>Opens a stream, STARTTLS, PLAIN, bind; returns the connection with the bind result read.</summary>
    public static async Task<RawConnection> LoginAsync(TestServer server, string user, string resource = "raw")
    {
        var raw = await AuthenticateAsync(server, user);
        await raw.SendAsync($"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{resource}</resource></bind></iq>");
        await raw.ReadUntilAsync("</iq>");
        raw.ClearReceived();
        return raw;
    }
}
