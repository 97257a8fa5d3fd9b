using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Tests.Routing;

public sealed class SessionRegistryTests
{
    private sealed class FakeSession(string jid) : IClientSession
    {
        public Jid Jid { get; } = Jid.Parse(jid);
        public string StreamId => "s";
        public DateTimeOffset BoundAt => DateTimeOffset.UnixEpoch;
        public SessionPresence Presence { get; } = new();
        public bool TryDeliver(Element stanza) => true;
        public ValueTask CloseAsync(StreamError error, CancellationToken ct) => ValueTask.CompletedTask;
    }

    [Fact]
    public void Sessions_are_found_by_full_jid_and_listed_by_account()
    {
        var registry = new SessionRegistry();
        var phone = new FakeSession("alice@example.test/phone");
        var laptop = new FakeSession("alice@example.test/laptop");
        Assert.True(registry.TryAdd(phone, 10, out var r1));
        Assert.True(registry.TryAdd(laptop, 10, out var r2));
        Assert.Null(r1);
        Assert.Null(r2);
        Assert.True(registry.TryGet(Jid.Parse("alice@example.test/phone"), out var found));
        Assert.Same(phone, found);
        Assert.Equal(2, registry.Resources(Jid.Parse("alice@example.test")).Length);
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public void Rfc6120_7_7_2_2_the_same_full_jid_replaces_the_old_session()
    {
        var registry = new SessionRegistry();
        var old = new FakeSession("alice@example.test/phone");
        var replacement = new FakeSession("alice@example.test/phone");
        registry.TryAdd(old, 1, out _);
        Assert.True(registry.TryAdd(replacement, 1, out var replaced));
        Assert.Same(old, replaced);
        Assert.Single(registry.Resources(Jid.Parse("alice@example.test")));
        // The old session's late removal must not remove its replacement.
        Assert.False(registry.Remove(old));
        Assert.True(registry.TryGet(Jid.Parse("alice@example.test/phone"), out var current));
        Assert.Same(replacement, current);
    }

    [Fact]
    public void A_new_resource_beyond_the_limit_is_refused()
    {
        var registry = new SessionRegistry();
        Assert.True(registry.TryAdd(new FakeSession("alice@example.test/a"), 1, out _));
        Assert.False(registry.TryAdd(new FakeSession("alice@example.test/b"), 1, out _));
        Assert.Single(registry.Resources(Jid.Parse("alice@example.test")));
    }

    [Fact]
    public void Removing_the_last_resource_forgets_the_account()
    {
        var registry = new SessionRegistry();
        var s = new FakeSession("alice@example.test/a");
        registry.TryAdd(s, 5, out _);
        Assert.True(registry.Remove(s));
        Assert.Empty(registry.Resources(Jid.Parse("alice@example.test")));
        Assert.Equal(0, registry.Count);
    }
}
