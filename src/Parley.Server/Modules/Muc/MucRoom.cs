using System.Globalization;
using Parley.Protocol;

namespace Parley.Server.Modules.Muc;

/// <summary>One occupant (a nick) of a room: the account behind it, its joined sessions (one account may join with
/// several resources under one nick), its role and its last presence.</summary>
internal sealed class MucOccupant(string nick, Jid account)
{
    public string Nick { get; set; } = nick;

    public Jid Account { get; } = account;

    public HashSet<Jid> Sessions { get; } = [];

    public string Role { get; set; } = "participant";

    public Element Presence { get; set; } = new("presence", Ns.Client);

    /// <summary>When the occupant last asked for voice.</summary>
    public DateTimeOffset LastVoiceRequest { get; set; } = DateTimeOffset.MinValue;

    private readonly Queue<DateTimeOffset> _recent = new();

    /// <summary>Whether another message fits in the last minute's allowance.</summary>
    public bool Allow(DateTimeOffset now, int perMinute)
    {
        while (_recent.Count > 0 && now - _recent.Peek() > TimeSpan.FromMinutes(1)) _recent.Dequeue();
        if (_recent.Count >= perMinute) return false;
        _recent.Enqueue(now);
        return true;
    }
}

/// <summary>A room's configuration, affiliations and live state (XEP-0045 §10 fields; §5 roles and affiliations).</summary>
internal sealed class MucRoom(Jid jid)
{
    public Jid Jid { get; } = jid;

    public string Name { get; set; } = "";

    public string Description { get; set; } = "";

    public bool Persistent { get; set; }

    public bool Public { get; set; } = true;

    public bool MembersOnly { get; set; }

    public bool Moderated { get; set; }

    public string? Password { get; set; }

    /// <summary>"moderators" (semi-anonymous) or "anyone" (non-anonymous).</summary>
    public string WhoIs { get; set; } = "moderators";

    public int MaxUsers { get; set; } = 100;

    public bool ChangeSubject { get; set; }

    /// <summary>Who may send private messages: anyone, participants, moderators or none.</summary>
    public string AllowPm { get; set; } = "anyone";

    public string Language { get; set; } = "";

    /// <summary>Whether participants (not only moderators) may invite others.</summary>
    public bool AllowInvites { get; set; } = true;

    /// <summary>Roles whose presence is broadcast (muc#roomconfig_presencebroadcast).</summary>
    public HashSet<string> PresenceBroadcast { get; set; } = ["moderator", "participant", "visitor"];

    /// <summary>Roles that may read the member list (muc#roomconfig_getmemberlist).</summary>
    public HashSet<string> GetMemberList { get; set; } = ["moderator"];

    /// <summary>Messages kept for history on entry, and how many are sent when the client does not say.</summary>
    public int HistoryLength { get; set; } = 20;

    public int DefaultHistoryMessages { get; set; } = 20;

    /// <summary>A pubsub node associated with the room (muc#roomconfig_pubsub).</summary>
    public string PubSubNode { get; set; } = "";

    /// <summary>Whether the room's disco#items lists its occupants to non-occupants (§6.5 advises against it by default).</summary>
    public bool PublicList { get; set; }

    /// <summary>In a moderated room, whether newcomers get voice (participant) rather than being visitors (§5.1.2: they do not by default).</summary>
    public bool MembersByDefault { get; set; }

    /// <summary>Whom visitors may send private messages: anyone, moderators or nobody.</summary>
    public string VisitorPm { get; set; } = "anyone";

    /// <summary>Whether visitors' status text is passed on, and whether they may change their nick.</summary>
    public bool VisitorStatus { get; set; } = true;

    public bool VisitorNickChange { get; set; } = true;

    /// <summary>Seconds between two voice requests of one occupant.</summary>
    public int VoiceRequestInterval { get; set; } = 1800;

    /// <summary>Whether participants may send IQs (vCard, version, …) to other occupants (moderators always may).</summary>
    public bool AllowQueryUsers { get; set; } = true;

    /// <summary>Whether visitors may ask for voice.</summary>
    public bool AllowVoiceRequests { get; set; } = true;

    /// <summary>Whether messages are kept in the room's archive (XEP-0313 on the room JID; status 170).</summary>
    public bool Logging { get; set; } = true;

    /// <summary>The key of XEP-0421 occupant ids: stable per room and account, meaningless elsewhere.</summary>
    public byte[] OccupantIdKey { get; set; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    /// <summary>XEP-0421: the occupant id of an account in this room.</summary>
    public string OccupantId(Jid account) =>
        Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(OccupantIdKey, System.Text.Encoding.UTF8.GetBytes(account.Bare.ToString())));

    /// <summary>§10.1.3: a new room is locked until its owner configures it or accepts the defaults.</summary>
    public bool Locked { get; set; }

    public Dictionary<Jid, string> Affiliations { get; } = [];

    /// <summary>§7.10: nicknames reserved by registration, per account.</summary>
    public Dictionary<Jid, string> ReservedNicks { get; } = [];

    /// <summary>The account that reserved a nick (compared as RFC 8266 §2.4 says), if any.</summary>
    public Jid? ReservedBy(string nick)
    {
        foreach (var (account, reserved) in ReservedNicks)
            if (MucNick.Comparer.Equals(reserved, nick)) return account;
        return null;
    }

    /// <summary>The occupants by nick; nicks that compare equal under RFC 8266 §2.4 are one key (§7.2.8 conflicts).</summary>
    public Dictionary<string, MucOccupant> Occupants { get; } = new(MucNick.Comparer);

    public string Subject { get; set; } = "";

    public string? SubjectNick { get; set; }

    public List<(DateTimeOffset Time, Element Message)> History { get; } = [];

    public string Affiliation(Jid account) => Affiliations.TryGetValue(account.Bare, out var a) ? a : "none";

    public MucOccupant? BySession(Jid full)
    {
        foreach (var o in Occupants.Values)
            if (o.Sessions.Contains(full)) return o;
        return null;
    }

    public MucOccupant? ByAccount(Jid account)
    {
        foreach (var o in Occupants.Values)
            if (o.Account == account.Bare) return o;
        return null;
    }

    /// <summary>The role an affiliation gets on entering (§5.1.2).</summary>
    public string DefaultRole(string affiliation) => affiliation switch
    {
        "owner" or "admin" => "moderator",
        "member" => "participant",
        _ => Moderated && !MembersByDefault ? "visitor" : "participant",
    };

    /// <summary>The room's state as stored for a persistent room.</summary>
    public Element ToElement()
    {
        var e = new Element("room", "urn:parley:muc")
            .SetAttribute("name", Name).SetAttribute("description", Description).SetAttribute("public", Public ? "1" : "0")
            .SetAttribute("membersonly", MembersOnly ? "1" : "0").SetAttribute("moderated", Moderated ? "1" : "0")
            .SetAttribute("password", Password).SetAttribute("whois", WhoIs).SetAttribute("maxusers", MaxUsers.ToString(CultureInfo.InvariantCulture))
            .SetAttribute("changesubject", ChangeSubject ? "1" : "0").SetAttribute("allowpm", AllowPm)
            .SetAttribute("subject", Subject).SetAttribute("subjectnick", SubjectNick)
            .SetAttribute("lang", Language).SetAttribute("allowinvites", AllowInvites ? "1" : "0")
            .SetAttribute("presencebroadcast", string.Join(' ', PresenceBroadcast)).SetAttribute("getmemberlist", string.Join(' ', GetMemberList))
            .SetAttribute("historylength", HistoryLength.ToString(CultureInfo.InvariantCulture))
            .SetAttribute("defaulthistory", DefaultHistoryMessages.ToString(CultureInfo.InvariantCulture))
            .SetAttribute("voicerequests", AllowVoiceRequests ? "1" : "0").SetAttribute("queryusers", AllowQueryUsers ? "1" : "0")
            .SetAttribute("pubsub", PubSubNode).SetAttribute("publiclist", PublicList ? "1" : "0").SetAttribute("membersbydefault", MembersByDefault ? "1" : "0")
            .SetAttribute("visitorpm", VisitorPm).SetAttribute("visitorstatus", VisitorStatus ? "1" : "0").SetAttribute("visitornick", VisitorNickChange ? "1" : "0")
            .SetAttribute("voiceinterval", VoiceRequestInterval.ToString(CultureInfo.InvariantCulture))
            .SetAttribute("logging", Logging ? "1" : "0").SetAttribute("oidkey", Convert.ToBase64String(OccupantIdKey));
        foreach (var (account, affiliation) in Affiliations)
            e.Add(new Element("affiliation", "urn:parley:muc").SetAttribute("jid", account.ToString()).SetAttribute("affiliation", affiliation)
                .SetAttribute("nick", ReservedNicks.TryGetValue(account, out var nick) ? nick : null));
        return e;
    }

    public static MucRoom FromElement(Jid jid, Element e)
    {
        var room = new MucRoom(jid)
        {
            Persistent = true,
            Name = e.GetAttribute("name") ?? "",
            Description = e.GetAttribute("description") ?? "",
            Public = e.GetAttribute("public") != "0",
            MembersOnly = e.GetAttribute("membersonly") == "1",
            Moderated = e.GetAttribute("moderated") == "1",
            Password = e.GetAttribute("password"),
            WhoIs = e.GetAttribute("whois") ?? "moderators",
            MaxUsers = int.TryParse(e.GetAttribute("maxusers"), NumberStyles.None, CultureInfo.InvariantCulture, out var max) ? max : 100,
            ChangeSubject = e.GetAttribute("changesubject") == "1",
            AllowPm = e.GetAttribute("allowpm") ?? "anyone",
            Subject = e.GetAttribute("subject") ?? "",
            SubjectNick = e.GetAttribute("subjectnick"),
            Logging = e.GetAttribute("logging") != "0",
            Language = e.GetAttribute("lang") ?? "",
            AllowInvites = e.GetAttribute("allowinvites") != "0",
            AllowVoiceRequests = e.GetAttribute("voicerequests") != "0",
            AllowQueryUsers = e.GetAttribute("queryusers") != "0",
            PubSubNode = e.GetAttribute("pubsub") ?? "",
            PublicList = e.GetAttribute("publiclist") != "0",
            MembersByDefault = e.GetAttribute("membersbydefault") == "1",
            VisitorPm = e.GetAttribute("visitorpm") ?? "anyone",
            VisitorStatus = e.GetAttribute("visitorstatus") != "0",
            VisitorNickChange = e.GetAttribute("visitornick") != "0",
            VoiceRequestInterval = int.TryParse(e.GetAttribute("voiceinterval"), NumberStyles.None, CultureInfo.InvariantCulture, out var vi) ? vi : 1800,
            HistoryLength = int.TryParse(e.GetAttribute("historylength"), NumberStyles.None, CultureInfo.InvariantCulture, out var hl) ? hl : 20,
            DefaultHistoryMessages = int.TryParse(e.GetAttribute("defaulthistory"), NumberStyles.None, CultureInfo.InvariantCulture, out var dh) ? dh : 20,
        };
        if (e.GetAttribute("presencebroadcast") is { } pb) room.PresenceBroadcast = [.. pb.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        if (e.GetAttribute("getmemberlist") is { } gm) room.GetMemberList = [.. gm.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        if (e.GetAttribute("oidkey") is { } key) room.OccupantIdKey = Convert.FromBase64String(key);
        foreach (var a in e.Children)
            if (Jid.TryParse(a.GetAttribute("jid"), out var account) && a.GetAttribute("affiliation") is { } affiliation)
            {
                room.Affiliations[account] = affiliation;
                if (a.GetAttribute("nick") is { } nick) room.ReservedNicks[account] = nick;
            }
        return room;
    }
}
