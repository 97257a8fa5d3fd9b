using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Components;

namespace Parley.Interop.Tests.Gateway;

/// <summary>
/// A real gateway through Parley (XEP-0114): Debian's biboumi, an XMPP–IRC gateway, connects to Parley's component
/// listener as biboumi.localhost, and Debian's ngircd is the IRC server, both on loopback with their own
/// configuration and data in a scratch folder. An XMPP user joins an IRC channel as a chat room and talks with a
/// plain IRC client, both ways. The README's test command installs biboumi and ngircd when run as root; without them
/// this test fails, it does not skip.
/// </summary>
public sealed class BiboumiGatewayTests : IAsyncLifetime
{
    private const string Gateway = "biboumi.localhost";
    private const string IrcServer = "irc.localhost";
    private const string Secret = "biboumi-secret";
    private const string Channel = "#parley";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "parley-biboumi-" + Guid.NewGuid().ToString("N"));
    private readonly int _componentPort = ChildProcess.FreePort();
    private readonly int _ircPort = ChildProcess.FreePort();
    private InteropServer _server = null!;
    private ChildProcess? _ngircd;
    private ChildProcess? _biboumi;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _server = new InteropServer(new Dictionary<string, string?>
        {
            ["Components:Address"] = "127.0.0.1",
            ["Components:Port"] = _componentPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Components:List:0:Domain"] = Gateway,
            ["Components:List:0:Secret"] = Secret,
        });
        await _server.InitializeAsync();

        // ngircd: no DNS or ident lookups (nothing answers them here), loopback only, in the foreground.
        var ngircdConfig = Path.Combine(_dir, "ngircd.conf");
        await File.WriteAllTextAsync(ngircdConfig, $"""
            [Global]
            Name = {IrcServer}
            Info = Parley gateway test
            AdminInfo1 = Parley tests
            AdminEMail = nobody@localhost
            Listen = 127.0.0.1
            Ports = {_ircPort}
            PidFile = {_dir}/ngircd.pid
            MotdPhrase = "Parley gateway test"
            [Limits]
            MaxConnectionsIP = 0
            [Options]
            DNS = no
            Ident = no
            PAM = no
            """);
        _ngircd = ChildProcess.Start("/usr/sbin/ngircd", $"-n -f {ngircdConfig}", "ngircd");
        await _ngircd.WaitForPortAsync(_ircPort, StartTimeout);

        // biboumi: the component's domain and secret, Parley's component port, its own sqlite database (needed for the
        // configure command) and no identd (port 113 is privileged and nothing asks).
        var biboumiConfig = Path.Combine(_dir, "biboumi.cfg");
        await File.WriteAllTextAsync(biboumiConfig, $"""
            hostname={Gateway}
            password={Secret}
            xmpp_server_ip=127.0.0.1
            port={_componentPort}
            db_name={_dir}/biboumi.sqlite
            identd_port=0
            realname_customization=true
            log_level=1
            policy_directory={_dir}

            """);
        _biboumi = ChildProcess.Start("/usr/bin/biboumi", biboumiConfig, "biboumi");
        var components = _server.Server.Services.GetRequiredService<ExternalComponents>();
        Assert.True(components.TryGet(Gateway, out var component));
        await _biboumi.WaitUntilAsync(() => component.IsConnected, "biboumi's handshake with Parley", StartTimeout);
    }

    public async Task DisposeAsync()
    {
        if (_biboumi is not null) await _biboumi.DisposeAsync();
        if (_ngircd is not null) await _ngircd.DisposeAsync();
        await _server.DisposeAsync();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private XmppClientOptions Options(string user) => new()
    {
        Jid = Jid.Create(user, InteropServer.Domain, "gateway"),
        Password = InteropServer.Password,
        Host = "127.0.0.1",
        Port = _server.StartTlsPort,
        CertificateValidation = (_, c, _, _) => c is not null
            && c.GetRawCertData().AsSpan().SequenceEqual(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(_server.CertificatePath)).RawData),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(20),
        Raw = true,
    };

    [Fact]
    public async Task An_xmpp_user_and_an_irc_user_talk_in_an_irc_channel_through_biboumi()
    {
        await using var alice = new XmppClient(Options("alice"));
        await alice.ConnectAsync();
        await alice.SendRawAsync("<presence/>");

        // biboumi ignores /etc/hosts: the IRC server's address and port are set through its configure command.
        await ConfigureIrcServerAsync(alice);

        // Entering the channel as a room (XEP-0045 §7.2): the self-presence (status 110) comes once biboumi has joined on IRC.
        var room = Jid.Parse($"{Channel}%{IrcServer}@{Gateway}");
        await alice.SendRawAsync($"<presence to='{room}/alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>");
        await WaitForAsync(alice, e => e.LocalName == "presence" && e.GetAttribute("from") == $"{room}/alice" && e.GetAttribute("type") is null
            && HasStatus(e, "110"), "alice's self-presence in the channel");

        await using var bob = await IrcClient.ConnectAsync(_ircPort, "bob");
        await bob.JoinAsync(Channel);
        await WaitForAsync(alice, e => e.LocalName == "presence" && e.GetAttribute("from") == $"{room}/bob", "bob's arrival in the room");

        // IRC to XMPP.
        await bob.SendAsync($"PRIVMSG {Channel} :hello from irc");
        var fromIrc = await WaitForAsync(alice, e => e.LocalName == "message" && e.GetAttribute("type") == "groupchat"
            && e.GetAttribute("from") == $"{room}/bob", "bob's message");
        Assert.Equal("hello from irc", fromIrc.Child("body", Ns.Client)?.Text);

        // XMPP to IRC.
        await alice.SendRawAsync($"<message to='{room}' type='groupchat' id='x1'><body>hello from xmpp</body></message>");
        var line = await bob.WaitForAsync(l => IrcClient.Command(l) == "PRIVMSG", "alice's message");
        Assert.StartsWith(":alice!", line, StringComparison.Ordinal);
        Assert.EndsWith($"PRIVMSG {Channel} :hello from xmpp", line, StringComparison.Ordinal);

        // Leaving the room parts the channel on IRC.
        await alice.SendRawAsync($"<presence to='{room}/alice' type='unavailable'/>");
        var part = await bob.WaitForAsync(l => IrcClient.Command(l) is "PART" or "QUIT", "alice leaving");
        Assert.StartsWith(":alice!", part, StringComparison.Ordinal);
    }

    // XEP-0050: execute 'configure' on the IRC server's JID, then submit the form with the address and the plain port.
    private async Task ConfigureIrcServerAsync(XmppClient alice)
    {
        var server = $"{IrcServer}@{Gateway}";
        var form = await alice.RequestAsync(XmppParse($"<iq type='set' to='{server}'><command xmlns='http://jabber.org/protocol/commands' node='configure' action='execute'/></iq>"));
        var command = form.Child("command", Ns.Commands) ?? throw new InvalidOperationException("biboumi sent no configure form: " + form + "\n" + _biboumi!.Output);
        var x = command.Child("x", Ns.DataForms) ?? throw new InvalidOperationException("biboumi's configure has no form: " + form);
        var overrides = new Dictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["address"] = ["127.0.0.1"],
            ["ports"] = [_ircPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ["tls_ports"] = [],
        };
        var submit = new Element("x", Ns.DataForms).SetAttribute("type", "submit");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in x.Children)
        {
            if (field.LocalName != "field" || field.GetAttribute("var") is not { } name || field.GetAttribute("type") == "fixed") continue;
            seen.Add(name);
            var copy = new Element("field", Ns.DataForms).SetAttribute("var", name);
            if (overrides.TryGetValue(name, out var values))
                foreach (var v in values) copy.Add(new Element("value", Ns.DataForms).AddText(v));
            else
                foreach (var v in field.Children)
                    if (v.LocalName == "value") copy.Add(new Element("value", Ns.DataForms).AddText(v.Text));
            submit.Add(copy);
        }
        foreach (var key in overrides.Keys)
            if (!seen.Contains(key)) throw new InvalidOperationException($"biboumi's configure form has no field '{key}': {form}");
        var iq = new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", server)
            .Add(new Element("command", Ns.Commands).SetAttribute("node", "configure")
                .SetAttribute("sessionid", command.GetAttribute("sessionid")).SetAttribute("action", "complete").Add(submit));
        var done = await alice.RequestAsync(iq);
        Assert.True(done.GetAttribute("type") == "result", "configure failed: " + done);
    }

    private static Element XmppParse(string xml)
    {
        var framer = new XmlFramer(new XmlFramerOptions());
        var bytes = new System.Buffers.ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(
            "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" + xml));
        while (framer.TryRead(ref bytes, out var frame))
            if (frame.Kind == XmlFrameKind.Element) return frame.Element!;
        throw new FormatException(xml);
    }

    private static bool HasStatus(Element presence, string code)
    {
        foreach (var x in presence.Children)
            if (x.LocalName == "x" && x.Namespace == "http://jabber.org/protocol/muc#user")
                foreach (var s in x.Children)
                    if (s.LocalName == "status" && s.GetAttribute("code") == code) return true;
        return false;
    }

    private async Task<Element> WaitForAsync(XmppClient client, Func<Element, bool> match, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        while (true)
        {
            Element e;
            try
            {
                e = await client.ReceiveAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"XMPP: {what} did not arrive; got:\n{string.Join("\n", seen)}\nbiboumi said:\n{_biboumi!.Output}");
            }
            if (match(e)) return e;
            seen.Add(e.ToString());
        }
    }
}
