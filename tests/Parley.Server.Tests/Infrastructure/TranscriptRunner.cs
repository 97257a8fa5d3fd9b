using Parley.Client;
using Parley.Protocol;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>Plays a transcript against a fresh in-process server, one real client connection per actor.</summary>
public static class TranscriptRunner
{
    public static async Task RunAsync(Transcript transcript)
    {
        // An actor named by a bare domain is an external component (XEP-0114) configured for that domain.
        var components = new List<string>();
        foreach (var (_, jidText) in transcript.Actors)
            if (Jid.Parse(jidText).Local is null) components.Add(Jid.Parse(jidText).Domain);
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings([.. components]));
        var clients = new Dictionary<string, XmppClient>();
        var jids = new Dictionary<string, Jid>();
        try
        {
            foreach (var (actor, jidText) in transcript.Actors)
            {
                var jid = Jid.Parse(jidText);
                var client = jid.Local is null ? await server.ConnectComponentAsync(jid.Domain) : await server.LoginAsync(jid.Local, jid.Resource);
                clients[actor] = client;
                jids[actor] = client.BoundJid;
            }
            foreach (var step in transcript.Steps)
            {
                var xml = Substitute(step.Xml, jids);
                var client = clients[step.Actor];
                if (step.Sends)
                {
                    await client.SendRawAsync(xml);
                    continue;
                }
                foreach (var expected in XmlAssert.ParseSnippets(xml))
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    Element actual;
                    try
                    {
                        actual = await client.ReceiveAsync(timeout.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        Assert.Fail($"{transcript.Name}:{step.Line}: {step.Actor} received nothing; expected {expected}");
                        return;
                    }
                    if (!XmlAssert.Matches(expected, actual, out var why))
                        Assert.Fail($"{transcript.Name}:{step.Line}: {step.Actor} received something else: {why}\nexpected: {expected}\nactual:   {actual}");
                }
            }
        }
        finally
        {
            foreach (var c in clients.Values) await c.DisposeAsync();
        }
    }

    private static string Substitute(string xml, Dictionary<string, Jid> jids)
    {
        foreach (var (actor, jid) in jids)
        {
            xml = xml.Replace("{" + actor + ".bare}", jid.Bare.ToString(), StringComparison.Ordinal);
            xml = xml.Replace("{" + actor + "}", jid.ToString(), StringComparison.Ordinal);
        }
        return xml.Replace("{domain}", TestServer.Domain, StringComparison.Ordinal);
    }
}
