namespace Parley.Protocol.Tests.Jids;

public sealed class JidTests
{
    [Theory]
    // RFC 7622 §3.5, Table 1: legal JIDs (local, domain, resource after preparation).
    [InlineData("juliet@example.com", "juliet", "example.com", null)]
    [InlineData("juliet@example.com/foo", "juliet", "example.com", "foo")]
    [InlineData("juliet@example.com/foo bar", "juliet", "example.com", "foo bar")]
    [InlineData("juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar")]
    [InlineData("foo\\20bar@example.com", "foo\\20bar", "example.com", null)]
    [InlineData("fussball@example.com", "fussball", "example.com", null)]
    [InlineData("fu\u00DFball@example.com", "fu\u00DFball", "example.com", null)]
    [InlineData("\u03C0@example.com", "\u03C0", "example.com", null)]
    [InlineData("\u03A3@example.com/foo", "\u03C3", "example.com", "foo")]
    [InlineData("\u03C3@example.com/foo", "\u03C3", "example.com", "foo")]
    [InlineData("\u03C2@example.com/foo", "\u03C2", "example.com", "foo")]
    [InlineData("king@example.com/\u265A", "king", "example.com", "\u265A")]
    [InlineData("example.com", null, "example.com", null)]
    [InlineData("example.com/foobar", null, "example.com", "foobar")]
    [InlineData("a.example.com/b@example.net", null, "a.example.com", "b@example.net")]
    public void Rfc7622_3_5_table_1_legal_jids_parse(string text, string? local, string domain, string? resource)
    {
        Assert.True(Jid.TryParse(text, out var jid), text);
        Assert.Equal(local, jid.Local);
        Assert.Equal(domain, jid.Domain);
        Assert.Equal(resource, jid.Resource);
    }

    [Theory]
    // RFC 7622 §3.5, Table 2: strings that are not JIDs.
    [InlineData("\"juliet\"@example.com")]
    [InlineData("foo bar@example.com")]
    [InlineData("@example.com/")]
    [InlineData("henry\u2163@example.com")]
    [InlineData("\u265A@example.com")]
    [InlineData("juliet@")]
    [InlineData("/foobar")]
    // More of RFC 7622 §3.
    [InlineData("")]
    [InlineData("juliet@example.com/")]
    [InlineData("a@b@c")]
    [InlineData("juliet@exa mple.com")]
    [InlineData("jul<iet@example.com")]
    [InlineData("jul:iet@example.com")]
    [InlineData("juliet@example.com/\u0007bell")]
    [InlineData("juliet@-example.com")]
    [InlineData("juliet@example..com")]
    [InlineData("juliet\u200D@example.com")]
    public void Rfc7622_3_5_table_2_and_other_invalid_strings_are_refused(string text)
    {
        Assert.False(Jid.TryParse(text, out _), text);
    }

    [Fact]
    public void Rfc7622_3_5_example_18_a_leading_space_is_kept_as_opaquestring_allows_it()
    {
        // Table 2 lists it as invalid, but the OpaqueString profile of RFC 8265 §4.2, which RFC 7622 §3.4 applies
        // to resourceparts, does not forbid leading spaces; Parley follows the profile.
        Assert.True(Jid.TryParse("juliet@example.com/ foo", out var jid));
        Assert.Equal(" foo", jid.Resource);
    }

    [Fact]
    public void Rfc8265_3_3_the_localpart_is_case_and_width_mapped()
    {
        Assert.Equal(Jid.Parse("juliet@example.com"), Jid.Parse("JuLiEt@EXAMPLE.com"));
        Assert.Equal("juliet", Jid.Parse("\uFF4A\uFF55\uFF4C\uFF49\uFF45\uFF54@example.com").Local);   // fullwidth letters
    }

    [Fact]
    public void Rfc8265_4_2_the_resourcepart_keeps_its_case_and_maps_non_ascii_spaces()
    {
        var jid = Jid.Parse("juliet@example.com/Balcony\u00A0Phone");
        Assert.Equal("Balcony Phone", jid.Resource);
        Assert.NotEqual(Jid.Parse("juliet@example.com/phone"), Jid.Parse("juliet@example.com/Phone"));
    }

    [Fact]
    public void Normalization_makes_composed_and_decomposed_forms_equal()
    {
        Assert.Equal(Jid.Parse("caf\u00E9@example.com"), Jid.Parse("cafe\u0301@example.com"));
        Assert.Equal(Jid.Parse("caf\u00E9@example.com").GetHashCode(), Jid.Parse("cafe\u0301@example.com").GetHashCode());
    }

    [Fact]
    public void Rfc7622_3_2_an_a_label_and_its_u_label_are_the_same_domain()
    {
        Assert.Equal(Jid.Parse("juliet@m\u00FCnchen.example"), Jid.Parse("juliet@xn--mnchen-3ya.example"));
        Assert.Equal("m\u00FCnchen.example", Jid.Parse("xn--mnchen-3ya.example").Domain);
    }

    [Fact]
    public void Rfc7622_3_2_a_trailing_dot_is_removed_and_ip_literals_are_allowed()
    {
        Assert.Equal("example.com", Jid.Parse("juliet@example.com.").Domain);
        Assert.Equal("192.0.2.1", Jid.Parse("juliet@192.0.2.1").Domain);
        Assert.Equal("[2001:db8::1]", Jid.Parse("juliet@[2001:DB8::1]").Domain);
        Assert.False(Jid.TryParse("juliet@[not-an-address]", out _));
    }

    [Fact]
    public void Rfc7622_3_each_part_may_be_up_to_1023_octets()
    {
        Assert.True(Jid.TryParse(new string('a', 1023) + "@example.com", out _));
        Assert.False(Jid.TryParse(new string('a', 1024) + "@example.com", out _));
        Assert.True(Jid.TryParse("a@example.com/" + new string('r', 1023), out _));
        Assert.False(Jid.TryParse("a@example.com/" + new string('r', 1024), out _));
        // 342 three-byte characters are 1026 octets.
        Assert.False(Jid.TryParse("a@example.com/" + new string('\u20AC', 342), out _));
        Assert.False(Jid.TryParse("a@" + new string('x', 64) + ".com", out _));   // a label over 63 octets
    }

    [Fact]
    public void Bare_full_and_resource_helpers_round_trip()
    {
        var full = Jid.Parse("Juliet@Example.com/Balcony");
        Assert.Equal("juliet@example.com/Balcony", full.ToString());
        Assert.Equal("juliet@example.com", full.Bare.ToString());
        Assert.True(full.Bare.IsBare);
        Assert.False(full.IsBare);
        Assert.Equal(full, full.Bare.WithResource("Balcony"));
        Assert.True(Jid.Parse("example.com").IsDomain);
        Assert.False(default(Jid).IsValid);
        Assert.Equal(Jid.Create("juliet", "example.com", "x"), Jid.Parse("juliet@example.com/x"));
        Assert.Throws<FormatException>(() => Jid.Parse("@"));
    }

    [Theory]
    [InlineData("juliet@example.com/balcony", "juliet@example.com/balcony", "juliet@example.com")] // already normal
    [InlineData("Juliet@example.com/balcony", "juliet@example.com/balcony", "juliet@example.com")] // localpart mapped
    [InlineData("juliet@Example.COM./balcony", "juliet@example.com/balcony", "juliet@example.com")] // domain mapped
    [InlineData("juliet@example.com/a@b/c", "juliet@example.com/a@b/c", "juliet@example.com")] // '@' and '/' in the resource
    [InlineData("example.com/r", "example.com/r", "example.com")]
    [InlineData("juliet@[::1]/r", "juliet@[::1]/r", "juliet@[::1]")]
    [InlineData("example.com", "example.com", "example.com")]
    public void A_parsed_jid_reads_as_its_normal_form_and_its_bare_form_whether_or_not_parsing_changed_it(string text, string normal, string bare)
    {
        var jid = Jid.Parse(text);
        Assert.Equal(normal, jid.ToString());
        Assert.Equal(bare, jid.Bare.ToString());
        Assert.Equal(Jid.Create(jid.Local, jid.Domain, jid.Resource), jid);
        Assert.Equal(Jid.Create(jid.Local, jid.Domain), jid.Bare);
        Assert.Equal(Jid.Parse(normal).GetHashCode(), jid.GetHashCode());
        Assert.True(jid.BareEquals(Jid.Parse(bare + "/other")));
        Assert.True(jid.BareEquals(jid.Bare));
        Assert.False(jid.BareEquals(Jid.Parse("romeo@" + jid.Domain)));
        Assert.False(jid.BareEquals(Jid.Parse(jid.Local is null ? "x@" + jid.Domain : jid.Local + "@example.org")));
    }
}
