using Parley.Client;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>
/// XEP-0388 SASL2, XEP-0386 Bind2 and XEP-0484 FAST from the client library. Debian's prosody 0.12 offers none of
/// them (the shared suite covers the classic path against it), so these run against Parley only.
/// </summary>
public sealed class Sasl2AgainstParley(ParleyTarget target) : IClassFixture<ParleyTarget>
{
    [Fact]
    public async Task Xep0388_and_xep0386_authenticate_bind_and_enable_stream_management_in_one_exchange()
    {
        await using var client = new XmppClient(target.Options("sasla", "phone"));
        await client.ConnectAsync();
        Assert.True(client.UsedSasl2);
        Assert.StartsWith("SCRAM-SHA-", client.Mechanism, StringComparison.Ordinal);
        // §3.2.1: the tag starts the resource the server generated.
        Assert.StartsWith("phone", client.BoundJid.Resource, StringComparison.Ordinal);
        Assert.Equal("sasla@" + target.Domain, client.BoundJid.Bare.ToString());
        Assert.True(client.IsStreamManagementEnabled);
        Assert.True(await client.PingAsync() < TimeSpan.FromSeconds(10));

        // Resumption goes inline too (XEP-0198 inside SASL2): nothing is lost across the cut.
        await using var other = new XmppClient(target.Options("saslb"));
        await other.ConnectAsync();
        var got = new TaskCompletionSource<ChatMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        other.MessageReceived += (_, m) => { if (m.Body == "across the cut") got.TrySetResult(m); };
        client.SimulateConnectionLoss();
        await client.SendMessageAsync(other.BoundJid, "across the cut");
        await got.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(1, client.Resumptions);
        Assert.True(client.UsedSasl2);
    }

    [Fact]
    public async Task Xep0484_a_token_asked_for_with_the_password_logs_in_without_it_and_a_bad_one_falls_back()
    {
        var agent = Guid.NewGuid().ToString();
        FastToken? token;
        await using (var first = new XmppClient(target.Options("fasta", "laptop") with { UserAgentId = agent, RequestFastToken = true }))
        {
            await first.ConnectAsync();
            token = first.FastToken;
            Assert.NotNull(token);
            Assert.StartsWith("HT-SHA-256-", token.Mechanism, StringComparison.Ordinal);
            Assert.True(token.Expiry > DateTimeOffset.UtcNow);
        }

        // The same installation, with the token and a wrong password: the token alone is enough.
        await using (var second = new XmppClient(target.Options("fasta", "laptop", password: "not the password") with { UserAgentId = agent, FastToken = token }))
        {
            await second.ConnectAsync();
            Assert.True(second.UsedFastToken);
            Assert.Equal(token.Mechanism, second.Mechanism);
        }

        // A token that does not work is dropped and the password used instead (§4.1).
        FastToken? reported = token;
        await using var third = new XmppClient(target.Options("fasta", "laptop") with
        {
            UserAgentId = agent,
            FastToken = token with { Token = "forged" + token.Token },
        });
        third.FastTokenChanged += (_, t) => reported = t;
        await third.ConnectAsync();
        Assert.False(third.UsedFastToken);
        Assert.StartsWith("SCRAM-SHA-", third.Mechanism, StringComparison.Ordinal);
        Assert.Null(reported);
    }
}
