using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Load;

/// <summary>
/// One client connection: connect from a chosen loopback source address, STARTTLS (or not), SASL, bind, presence.
/// Negotiation goes through the protocol core's <see cref="XmlFramer"/> and <see cref="ElementWriter"/>; once the
/// session is bound the scenario owns <see cref="Reader"/> and <see cref="Writer"/> and reads raw bytes.
/// </summary>
internal sealed class LoadConnection : IAsyncDisposable
{
    private static readonly QName Features = new(Ns.Streams, "features");
    private static readonly QName StreamErrorName = new(Ns.Streams, "error");

    private readonly Socket _socket;
    private readonly XmlFramer _framer = new();
    private Stream _stream;

    private LoadConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        Reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        Writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public PipeReader Reader { get; private set; }
    public PipeWriter Writer { get; private set; }
    public string Mechanism { get; private set; } = "";

    /// <summary>With a roster fetched at login: the contacts whose subscription is already 'both'.</summary>
    public HashSet<string> MutualContacts { get; } = new(StringComparer.Ordinal);

    /// <summary>Connects and negotiates a bound, available session for <paramref name="user"/>.</summary>
    public static async Task<LoadConnection> OpenAsync(LoadOptions o, int index, string user, bool fetchRoster, CancellationToken ct)
    {
        var c = await ConnectAsync(o, index, ct);
        try
        {
            var features = await c.StartAsync(o, ct);
            features = await c.AuthenticateAsync(o, user, features, ct);
            await c.BindAsync(features, ct);
            if (fetchRoster)
            {
                // RFC 6121 §2.1.3: what a client does on login before its initial presence.
                await c.SendAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", "roster")
                    .Add(new Element("query", Ns.Roster)), ct);
                Element reply;
                do reply = await c.ReadElementAsync(ct); while (reply.GetAttribute("id") != "roster");
                if (reply.GetAttribute("type") != "result") throw new LoadException("roster get failed");
                if (reply.Child("query", Ns.Roster) is { } query)
                    foreach (var item in query.Children)
                        if (item.GetAttribute("subscription") == "both" && item.GetAttribute("jid") is { } jid) c.MutualContacts.Add(jid);
            }
            // RFC 6121 §4.2: initial presence.
            c.Writer.Write("<presence/>"u8);
            await c.Writer.FlushAsync(ct);
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Enters a multi-user chat room as <paramref name="nick"/> with no history (XEP-0045 §7.2.1, §7.2.14) and waits
    /// for the room's self-presence (status 110). A room this entry created (status 201, §10.1.1) is locked until its
    /// owner configures it: it is then made an instant room (§10.1.2) with room for <paramref name="maxUsers"/>.
    /// </summary>
    public async Task JoinRoomAsync(string room, string nick, int maxUsers, CancellationToken ct)
    {
        var occupant = room + "/" + nick;
        await SendAsync(new Element("presence", Ns.Client).SetAttribute("to", occupant)
            .Add(new Element("x", Ns.Muc).Add(new Element("history", Ns.Muc).SetAttribute("maxstanzas", "0"))), ct);
        Element? x;
        while (true)
        {
            var reply = await ReadElementAsync(ct);
            if (reply.LocalName != "presence" || !string.Equals(reply.GetAttribute("from"), occupant, StringComparison.OrdinalIgnoreCase)) continue;
            if (reply.GetAttribute("type") == "error")
                throw new LoadException($"cannot enter {room}: {reply.Child("error", Ns.Client)?.FirstChild()?.LocalName ?? "error"}");
            x = reply.Child("x", Ns.MucUser);
            if (x is not null && HasStatus(x, "110")) break;
        }
        if (!HasStatus(x, "201")) return;
        var form = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(Field("FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig"))
            .Add(Field("muc#roomconfig_maxusers", maxUsers.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await SendAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", "config").SetAttribute("to", room)
            .Add(new Element("query", Ns.MucOwner).Add(form)), ct);
        Element result;
        do result = await ReadElementAsync(ct); while (result.LocalName != "iq" || result.GetAttribute("id") != "config");
        if (result.GetAttribute("type") != "result")
            throw new LoadException($"cannot configure {room}: {result.Child("error", Ns.Client)?.FirstChild()?.LocalName ?? "error"}");

        static bool HasStatus(Element x, string code)
        {
            foreach (var status in x.Children)
                if (status.LocalName == "status" && status.GetAttribute("code") == code) return true;
            return false;
        }

        static Element Field(string var, string value) =>
            new Element("field", Ns.DataForms).SetAttribute("var", var).Add(new Element("value", Ns.DataForms).AddText(value));
    }

    /// <summary>Connects and registers <paramref name="user"/> in band (XEP-0077 §3.1); true when created or already there.</summary>
    public static async Task<bool> RegisterAsync(LoadOptions o, int index, string user, CancellationToken ct)
    {
        await using var c = await ConnectAsync(o, index, ct);
        var features = await c.StartAsync(o, ct);
        var iq = new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", "reg")
            .Add(new Element("query", Ns.Register)
                .Add(new Element("username", Ns.Register).AddText(user))
                .Add(new Element("password", Ns.Register).AddText(o.PasswordFor(user))));
        await c.SendAsync(iq, ct);
        var reply = await c.ReadElementAsync(ct);
        // A conflict means the account exists, which is what we wanted.
        var ok = reply.GetAttribute("type") == "result" || reply.Child("error", Ns.Client)?.Child("conflict", Ns.Stanzas) is not null;
        // With --scram-cache, one login on the same stream learns the account's salt and keeps its key.
        if (ok && o.ScramCache is not null) await c.AuthenticateAsync(o, user, features, ct);
        return ok;
    }

    private static async Task<LoadConnection> ConnectAsync(LoadOptions o, int index, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // Binding the local end first spreads connections over several loopback sources, so that 100,000 of them
            // do not run out of ephemeral ports on one address.
            socket.Bind(new IPEndPoint(o.SourceFor(index), 0));
            await socket.ConnectAsync(o.Server, ct);
            return new LoadConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Opens the stream and, with --tls starttls, upgrades it; returns the features offered for authentication.
    private async Task<Element> StartAsync(LoadOptions o, CancellationToken ct)
    {
        var features = await OpenStreamAsync(o.Domain, ct);
        if (!o.Tls) return features;
        if (features.Child("starttls", Ns.Tls) is null) throw new LoadException("the server offers no STARTTLS");
        Writer.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"u8);
        await Writer.FlushAsync(ct);
        var proceed = await ReadElementAsync(ct);
        if (proceed.LocalName != "proceed") throw new LoadException("STARTTLS refused: " + proceed.LocalName);
        // RFC 6120 §5.4.3.3: nothing follows <proceed/> before the handshake, so the old pipes hold no data.
        await Reader.CompleteAsync();
        await Writer.CompleteAsync();
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = o.Domain,
            // The servers under test run on this machine with self-signed certificates the harness made.
#pragma warning disable CA5359
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
            // SslStream builds the chain before it asks the callback; against an empty custom root store it does not
            // load and sort the system's roots for every connection (about a fifth of the generator's setup CPU).
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
            },
        };
        await tls.AuthenticateAsClientAsync(options, ct);
        _stream = tls;
        Reader = PipeReader.Create(tls, new StreamPipeReaderOptions(leaveOpen: true));
        Writer = PipeWriter.Create(tls, new StreamPipeWriterOptions(leaveOpen: true));
        return await OpenStreamAsync(o.Domain, ct);
    }

    private async Task<Element> AuthenticateAsync(LoadOptions o, string user, Element features, CancellationToken ct)
    {
        var offered = new List<string>();
        if (features.Child("mechanisms", Ns.Sasl) is { } list)
            foreach (var m in list.Children) offered.Add(m.Text);
        Mechanism = Choose(o.Mechanism, offered) ?? throw new LoadException("no usable SASL mechanism among " + string.Join(' ', offered));
        if (Mechanism == "PLAIN")
        {
            await SendAsync(Auth(Mechanism, SaslPlain.Create(null, user, o.PasswordFor(user))), ct);
            Expect(await ReadElementAsync(ct), "success");
        }
        else
        {
            var scram = new ScramClient(Mechanism == "SCRAM-SHA-256" ? ScramHash.Sha256 : ScramHash.Sha1, plus: false, user, o.PasswordFor(user),
                channelBinding: null, bindingType: null, serverOffersPlus: false, offeredMechanisms: null) { KeyCache = o.ScramCache };
            await SendAsync(Auth(Mechanism, scram.CreateClientFirst()), ct);
            var challenge = await ReadElementAsync(ct);
            Expect(challenge, "challenge");
            if (!scram.TryCreateClientFinal(Convert.FromBase64String(challenge.Text), out var final, out var error))
                throw new LoadException("SCRAM: " + error);
            await SendAsync(new Element("response", Ns.Sasl).AddText(Convert.ToBase64String(final)), ct);
            var success = await ReadElementAsync(ct);
            Expect(success, "success");
            if (!scram.VerifyServerFinal(Convert.FromBase64String(success.Text))) throw new LoadException("SCRAM: bad server signature");
        }
        // RFC 6120 §6.4.6: a new stream after SASL success.
        _framer.Reset();
        return await OpenStreamAsync(o.Domain, ct);
    }

    private async Task BindAsync(Element features, CancellationToken ct)
    {
        if (features.Child("bind", Ns.Bind) is null) throw new LoadException("the server offers no resource binding");
        await SendAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", "bind")
            .Add(new Element("bind", Ns.Bind).Add(new Element("resource", Ns.Bind).AddText("load"))), ct);
        var result = await ReadElementAsync(ct);
        if (result.GetAttribute("type") != "result") throw new LoadException("bind failed");
        // RFC 3921 sessions, for servers that still require them (RFC 6121 Appendix E).
        if (features.Child("session", Ns.Session) is { } session && session.Child("optional", Ns.Session) is null)
        {
            await SendAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", "sess")
                .Add(new Element("session", Ns.Session)), ct);
            if ((await ReadElementAsync(ct)).GetAttribute("type") != "result") throw new LoadException("session failed");
        }
    }

    private static string? Choose(string wanted, List<string> offered) => wanted switch
    {
        "scram-sha-256" => offered.Contains("SCRAM-SHA-256") ? "SCRAM-SHA-256" : null,
        "scram-sha-1" => offered.Contains("SCRAM-SHA-1") ? "SCRAM-SHA-1" : null,
        "plain" => offered.Contains("PLAIN") ? "PLAIN" : null,
        _ => offered.Contains("SCRAM-SHA-256") ? "SCRAM-SHA-256"
            : offered.Contains("SCRAM-SHA-1") ? "SCRAM-SHA-1"
            : offered.Contains("PLAIN") ? "PLAIN" : null,
    };

    private static Element Auth(string mechanism, byte[] initial) =>
        new Element("auth", Ns.Sasl).SetAttribute("mechanism", mechanism).AddText(Convert.ToBase64String(initial));

    private static void Expect(Element e, string name)
    {
        if (e.LocalName != name) throw new LoadException($"expected <{name}/>, got <{e.LocalName}/>: {Truncate(e.ToString())}");
    }

    private async Task<Element> OpenStreamAsync(string domain, CancellationToken ct)
    {
        _framer.Reset();
        ElementWriter.WriteStreamHeader(Writer, new StreamHeader(To: domain, From: null, Id: null, Version: "1.0", Lang: null, Ns.Client, Ns.Streams));
        await Writer.FlushAsync(ct);
        var features = await ReadElementAsync(ct);
        if (features.Name != Features) throw new LoadException("expected stream features, got " + features.LocalName);
        return features;
    }

    public async Task SendAsync(Element element, CancellationToken ct)
    {
        ElementWriter.Write(Writer, element, Ns.Client);
        await Writer.FlushAsync(ct);
    }

    /// <summary>The next top-level element, skipping the stream header; throws on a stream error or close.</summary>
    public async Task<Element> ReadElementAsync(CancellationToken ct)
    {
        while (true)
        {
            var read = await Reader.ReadAsync(ct);
            var buffer = read.Buffer;
            while (_framer.TryRead(ref buffer, out var frame))
            {
                if (frame.Kind == XmlFrameKind.StreamOpen) continue;
                Reader.AdvanceTo(buffer.Start);
                if (frame.Kind == XmlFrameKind.StreamClose) throw new LoadException("the server closed the stream");
                var element = frame.Element!;
                if (element.Name == StreamErrorName)
                    throw new LoadException("stream error: " + (element.FirstChild()?.LocalName ?? "?"));
                return element;
            }
            Reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted) throw new LoadException("the server closed the connection");
        }
    }

    /// <summary>Closes the stream politely, then the connection.</summary>
    public async Task CloseAsync()
    {
        try
        {
            ElementWriter.WriteStreamClose(Writer);
            await Writer.FlushAsync();
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
        catch (InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await Reader.CompleteAsync();
        await Writer.CompleteAsync();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "...";
}
