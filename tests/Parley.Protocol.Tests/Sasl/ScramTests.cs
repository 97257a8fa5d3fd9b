using System.Text;
using Parley.Protocol.Sasl;

namespace Parley.Protocol.Tests.Sasl;

public sealed class ScramTests
{
    private sealed class FakeBinding(Dictionary<string, byte[]> data) : IChannelBindingSource
    {
        public IReadOnlyList<string> Types { get; } = [.. data.Keys];
        public byte[]? GetBindingData(string type) => data.TryGetValue(type, out var d) ? d : null;
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
    private static string S(byte[] b) => Encoding.UTF8.GetString(b);

    [Theory]
    // RFC 5802 §5: user "user", password "pencil".
    [InlineData(ScramHash.Sha1, "fyko+d2lbbFgONRv9qkxdawL", "3rfcNHYJY1ZVvWVs7j", "QSXCR+Q6sek8bf92",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")]
    // RFC 7677 §3: the same user with SCRAM-SHA-256.
    [InlineData(ScramHash.Sha256, "rOprNGfwEbeRWgbNEkqO", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", "W22ZaJ0SNY7soEsUEjb6gQ==",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")]
    public void The_rfc_example_exchange_is_reproduced_on_both_sides(ScramHash hash, string clientNonce, string serverNonce, string salt, string clientFinal, string serverFinal)
    {
        var credential = ScramCredential.Derive(hash, "pencil", Convert.FromBase64String(salt), 4096);
        var client = new ScramClient(hash, false, "user", "pencil", null, null, false, null, clientNonce);
        var server = new ScramServer(hash, false, null, [], serverNonce);

        var first = client.CreateClientFirst();
        Assert.Equal($"n,,n=user,r={clientNonce}", S(first));
        Assert.Null(server.ReadClientFirst(first));
        Assert.Equal("user", server.Username);
        var serverFirst = server.CreateServerFirst(credential);
        Assert.Equal($"r={clientNonce}{serverNonce},s={salt},i=4096", S(serverFirst));
        Assert.True(client.TryCreateClientFinal(serverFirst, out var final, out var error), error);
        Assert.Equal(clientFinal, S(final));
        Assert.Null(server.ReadClientFinal(final, out var additional));
        Assert.Equal(serverFinal, S(additional!));
        Assert.True(client.VerifyServerFinal(additional));
    }

    private sealed class CountingCache : IScramKeyCache
    {
        public readonly Dictionary<string, byte[]> Entries = [];
        public int Stores;
        private static string Key(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations) =>
            $"{hash}|{username}|{Convert.ToBase64String(salt)}|{iterations}";
        public byte[]? Find(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations) =>
            Entries.TryGetValue(Key(hash, username, salt, iterations), out var v) ? v : null;
        public void Store(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations, byte[] saltedPassword)
        {
            Stores++;
            Entries[Key(hash, username, salt, iterations)] = saltedPassword;
        }
    }

    private static SaslFailure? Login(ScramCredential credential, string password, IScramKeyCache cache)
    {
        var offered = new[] { "SCRAM-SHA-256" };
        var client = new ScramClient(ScramHash.Sha256, false, "alice", password, null, null, false, offered) { KeyCache = cache };
        var server = new ScramServer(ScramHash.Sha256, false, null, offered);
        Assert.Null(server.ReadClientFirst(client.CreateClientFirst()));
        Assert.True(client.TryCreateClientFinal(server.CreateServerFirst(credential), out var final, out var error), error);
        var failure = server.ReadClientFinal(final, out var additional);
        if (failure is null) Assert.True(client.VerifyServerFinal(additional));
        return failure;
    }

    [Fact]
    public void Rfc5802_5_1_a_cached_salted_password_serves_the_next_login_with_the_same_salt()
    {
        var cache = new CountingCache();
        var credential = ScramCredential.Create(ScramHash.Sha256, "pw", 4096);
        Assert.Null(Login(credential, "pw", cache));
        Assert.Equal(1, cache.Stores);
        Assert.Null(Login(credential, "pw", cache));
        Assert.Equal(1, cache.Stores); // found, not derived again

        // The cached value is what the proof is made from: a wrong one fails even with the right password.
        var key = Assert.Single(cache.Entries).Key;
        cache.Entries[key] = new byte[32];
        Assert.Equal(SaslFailure.NotAuthorized, Login(credential, "pw", cache));

        // A new salt (the password was changed) misses, and the key is derived again.
        var changed = ScramCredential.Create(ScramHash.Sha256, "new", 4096);
        Assert.Null(Login(changed, "new", cache));
        Assert.Equal(2, cache.Stores);
    }

    [Theory]
    [InlineData(ScramHash.Sha1)]
    [InlineData(ScramHash.Sha256)]
    [InlineData(ScramHash.Sha512)]
    public void A_wrong_password_is_not_authorized(ScramHash hash)
    {
        var credential = ScramCredential.Create(hash, "right", 4096);
        var offered = new[] { SaslMechanisms.ScramName(hash, false) };
        var client = new ScramClient(hash, false, "alice", "wrong", null, null, false, offered);
        var server = new ScramServer(hash, false, null, offered);
        Assert.Null(server.ReadClientFirst(client.CreateClientFirst()));
        Assert.True(client.TryCreateClientFinal(server.CreateServerFirst(credential), out var final, out _));
        Assert.Equal(SaslFailure.NotAuthorized, server.ReadClientFinal(final, out _));
    }

    [Fact]
    public void An_unknown_user_gets_a_normal_looking_challenge_and_fails_at_the_proof()
    {
        var server = new ScramServer(ScramHash.Sha256, false, null, ["SCRAM-SHA-256"]);
        var client = new ScramClient(ScramHash.Sha256, false, "nobody", "x", null, null, false, ["SCRAM-SHA-256"]);
        Assert.Null(server.ReadClientFirst(client.CreateClientFirst()));
        var first = S(server.CreateServerFirst(null));
        Assert.Matches("^r=[^,]+,s=[^,]+,i=4096,h=[^,]+$", first);
        Assert.True(client.TryCreateClientFinal(B(first), out var final, out _));
        Assert.Equal(SaslFailure.NotAuthorized, server.ReadClientFinal(final, out _));
    }

    [Theory]
    [InlineData("tls-server-end-point")]
    [InlineData("tls-unique")]
    public void Plus_succeeds_when_both_sides_see_the_same_channel_and_fails_otherwise(string type)
    {
        var offered = new[] { "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256" };
        var credential = ScramCredential.Create(ScramHash.Sha256, "pw", 4096);
        var same = new FakeBinding(new() { [type] = [1, 2, 3] });
        var client = new ScramClient(ScramHash.Sha256, true, "alice", "pw", same, type, true, offered) { AdvertisedBindingTypes = same.Types };
        var server = new ScramServer(ScramHash.Sha256, true, same, offered);
        Assert.Null(server.ReadClientFirst(client.CreateClientFirst()));
        Assert.True(client.TryCreateClientFinal(server.CreateServerFirst(credential), out var final, out var error), error);
        Assert.Null(server.ReadClientFinal(final, out var v));
        Assert.True(client.VerifyServerFinal(v));

        // A man in the middle terminates TLS: the client's channel differs from the server's.
        var mitm = new FakeBinding(new() { [type] = [9, 9, 9] });
        var victim = new ScramClient(ScramHash.Sha256, true, "alice", "pw", mitm, type, true, offered) { AdvertisedBindingTypes = same.Types };
        var server2 = new ScramServer(ScramHash.Sha256, true, same, offered);
        Assert.Null(server2.ReadClientFirst(victim.CreateClientFirst()));
        Assert.True(victim.TryCreateClientFinal(server2.CreateServerFirst(credential), out var final2, out _));
        Assert.Equal(SaslFailure.NotAuthorized, server2.ReadClientFinal(final2, out _));
    }

    [Fact]
    public void Rfc5802_6_the_y_flag_while_the_server_offered_plus_is_a_downgrade()
    {
        var server = new ScramServer(ScramHash.Sha1, false, null, ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"]);
        Assert.Equal(SaslFailure.NotAuthorized, server.ReadClientFirst(B("y,,n=alice,r=abc")));
        var noPlus = new ScramServer(ScramHash.Sha1, false, null, ["SCRAM-SHA-1"]);
        Assert.Null(noPlus.ReadClientFirst(B("y,,n=alice,r=abc")));
    }

    [Fact]
    public void Xep0474_6_2_the_client_detects_a_stripped_mechanism_list()
    {
        var credential = ScramCredential.Create(ScramHash.Sha256, "pw", 4096);
        // The server offered -PLUS too; an attacker showed the client only SCRAM-SHA-256.
        var server = new ScramServer(ScramHash.Sha256, false, null, ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]);
        var client = new ScramClient(ScramHash.Sha256, false, "alice", "pw", null, null, false, ["SCRAM-SHA-256"]);
        Assert.Null(server.ReadClientFirst(B("n,,n=alice,r=abcdef")));
        var tampered = new ScramClient(ScramHash.Sha256, false, "alice", "pw", null, null, false, ["SCRAM-SHA-256"], "abcdef");
        tampered.CreateClientFirst();
        Assert.False(tampered.TryCreateClientFinal(server.CreateServerFirst(credential), out _, out var error));
        Assert.Contains("downgrade", error, StringComparison.Ordinal);
        _ = client;
    }

    [Fact]
    public void Xep0474_6_3_the_example_hash_is_reproduced()
    {
        // 'SCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1ftls-exporter\x1etls-server-end-point'
        var h = Scram.DowngradeHash(ScramHash.Sha1, ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"], ["tls-server-end-point", "tls-exporter"]);
        Assert.Equal("G6k/rBLDqgOhRRaCuuatSDFkJ08=", h);
    }

    [Theory]
    [InlineData("")]
    [InlineData("n,,r=abc")]
    [InlineData("n,,n=al=2Xice,r=abc")]
    [InlineData("n,,m=ext,n=alice,r=abc")]
    [InlineData("x,,n=alice,r=abc")]
    [InlineData("p=tls-unique,,n=alice,r=abc")]
    [InlineData("n,a,n=alice,r=abc")]
    public void Malformed_client_first_messages_fail_without_exceptions(string message)
    {
        var server = new ScramServer(ScramHash.Sha256, false, null, ["SCRAM-SHA-256"]);
        Assert.NotNull(server.ReadClientFirst(B(message)));
    }

    [Fact]
    public void Random_bytes_never_escape_as_exceptions()
    {
        var random = new Random(474);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 80)];
            random.NextBytes(bytes);
            var server = new ScramServer(ScramHash.Sha256, true, new FakeBinding(new() { ["tls-unique"] = [1] }), ["SCRAM-SHA-256-PLUS"]);
            if (server.ReadClientFirst(bytes) is null)
            {
                server.CreateServerFirst(null);
                server.ReadClientFinal(bytes, out _);
            }
            var fresh = new ScramServer(ScramHash.Sha256, false, null, ["SCRAM-SHA-256"]);
            if (fresh.ReadClientFirst(B("n,,n=a,r=b")) is null)
            {
                fresh.CreateServerFirst(null);
                Assert.NotNull(fresh.ReadClientFinal(bytes, out _));
            }
        }
    }

    [Fact]
    public void Plain_messages_split_into_three_parts()
    {
        Assert.True(SaslPlain.TryParse(B("\0alice\0pw"), out var z, out var c, out var p));
        Assert.Null(z);
        Assert.Equal("alice", c);
        Assert.Equal("pw", p);
        Assert.False(SaslPlain.TryParse(B("alice\0pw"), out _, out _, out _));
        Assert.False(SaslPlain.TryParse(B("\0\0pw"), out _, out _, out _));
        Assert.False(SaslPlain.TryParse(B("\0a\0b\0c"), out _, out _, out _));
    }
}
