using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Client.Tests;

/// <summary>
/// A minimal scripted XMPP server on 127.0.0.1 for client tests: plaintext, SCRAM-SHA-256 (or only what a test
/// offers), resource binding, then a test-supplied handler for each stanza. Bounded by the test's timeout.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _run;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(30));
    private readonly ScramCredential _credential = ScramCredential.Create(ScramHash.Sha256, "pw", 4096);

    public ScriptedServer(Func<Element, ScriptedServer, Task>? onStanza = null, string features = "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms>")
    {
        OnStanza = onStanza ?? ((_, _) => Task.CompletedTask);
        Features = features;
        _listener.Start();
        _run = RunAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Features { get; }
    public Func<Element, ScriptedServer, Task> OnStanza { get; }
    public PipeWriter? Output { get; private set; }

    public async Task SendAsync(string xml)
    {
        await Output!.WriteAsync(Encoding.UTF8.GetBytes(xml));
    }

    private async Task RunAsync()
    {
        using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
        var stream = client.GetStream();
        var input = PipeReader.Create(stream);
        Output = PipeWriter.Create(stream);
        var framer = new XmlFramer();
        ScramServer? scram = null;
        var authenticated = false;
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(_stop.Token);
                var buffer = read.Buffer;
                while (framer.TryRead(ref buffer, out var frame))
                {
                    if (frame.Kind == XmlFrameKind.StreamClose) { await SendAsync("</stream:stream>"); return; }
                    if (frame.Kind == XmlFrameKind.StreamOpen)
                    {
                        var features = authenticated ? "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>" : Features;
                        await SendAsync("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.test' id='s1' version='1.0'>"
                            + "<stream:features>" + features + "</stream:features>");
                        continue;
                    }
                    var e = frame.Element!;
                    switch (e.LocalName)
                    {
                        case "auth":
                            scram = new ScramServer(ScramHash.Sha256, false, null, ["SCRAM-SHA-256"]);
                            if (scram.ReadClientFirst(Convert.FromBase64String(e.Text)) is not null) { await SendAsync("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><malformed-request/></failure>"); break; }
                            await SendAsync($"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{Convert.ToBase64String(scram.CreateServerFirst(_credential))}</challenge>");
                            break;
                        case "response":
                            if (scram!.ReadClientFinal(Convert.FromBase64String(e.Text), out var final) is not null)
                            {
                                await SendAsync("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
                                break;
                            }
                            authenticated = true;
                            framer.Reset();
                            await SendAsync($"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{Convert.ToBase64String(final!)}</success>");
                            break;
                        case "iq" when e.Child("bind", Ns.Bind) is not null:
                            await SendAsync($"<iq type='result' id='{e.GetAttribute("id")}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.test/scripted</jid></bind></iq>");
                            break;
                        default:
                            await OnStanza(e, this);
                            break;
                    }
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or XmlStreamException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _run; } catch (Exception e) when (e is OperationCanceledException or SocketException) { }
        _stop.Dispose();
    }
}
