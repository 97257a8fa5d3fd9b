using System.Globalization;
using System.Net;

namespace Parley.Load;

/// <summary>What to run and against whom, from the command line.</summary>
internal sealed record LoadOptions
{
    public string Scenario { get; init; } = "";
    public IPEndPoint Server { get; init; } = new(IPAddress.Loopback, 5222);
    public string Domain { get; init; } = "localhost";
    public int Users { get; init; } = 100;
    public int FirstUser { get; init; }
    public string UserPrefix { get; init; } = "load";
    public string Password { get; init; } = "load-password";
    public bool PasswordSuffix { get; init; }
    public bool Tls { get; init; } = true;
    public string Mechanism { get; init; } = "auto";
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(3);
    public double Rate { get; init; } = 1000;
    public int Contacts { get; init; } = 50;
    public int RoomSize { get; init; } = 20;
    public string? MucService { get; init; }
    public int Concurrency { get; init; } = 64;
    public int? Pid { get; init; }
    public IPAddress SourceBase { get; init; } = IPAddress.Parse("127.0.1.1");
    public int Sources { get; init; } = 16;
    public string Label { get; init; } = "";

    /// <summary>With --scram-cache: SaltedPassword kept between logins and runs (RFC 5802 §5.1).</summary>
    public ScramKeyFile? ScramCache { get; init; }

    public const string Usage = """
        parley-load <scenario> [options]

        scenarios:
          register   create the accounts by in-band registration (XEP-0077); existing ones count as done
          storm      N clients connect, negotiate, bind, send presence, then stay idle
          chat       N clients online; one-to-one chat messages to random online users at --rate per second
          roster     N clients online subscribe to each other (both ways) until each has --contacts contacts
          presence   N clients fetch their roster and come online; presence changes at --rate per second
          muc        N clients enter rooms of --room-size occupants (XEP-0045); groupchat messages at --rate per
                     second in total, each reflected to every occupant of its room

        options:
          --server host:port    the server (default 127.0.0.1:5222)
          --domain d            the XMPP domain (default localhost)
          --users N             sessions (default 100); accounts are <prefix><i>@<domain>, i from --first-user
          --first-user i        first account index (default 0)
          --user-prefix p       account name prefix (default load)
          --password pw         every account's password (default load-password)
          --password-suffix     the password is pw followed by the account's index (pw1 for load1: tsung's scheme)
          --tls starttls|plain  STARTTLS (default) or plain TCP (the server must allow it)
          --mechanism m         auto (SCRAM-SHA-256, then SCRAM-SHA-1, then PLAIN), scram-sha-256, scram-sha-1, plain
          --duration s          chat: measured seconds (default 10)
          --warmup s            chat, presence, muc: seconds of traffic before measuring (default 1), then more (at most
                                20 s) while the server's CPU time per second still falls by over a tenth (tiered JIT)
          --idle s              storm: seconds to stay idle before reading the server's memory (default 3)
          --rate r              chat, presence, muc: offered messages or presence changes per second, in total (default 1000)
          --contacts c          roster, presence: contacts per user, the neighbours i±1..i±c/2 (default 50)
          --room-size n         muc: occupants per room (default 20); users i*n..i*n+n-1 share room i
          --muc-service d       muc: the rooms' service (default conference.<domain>)
          --concurrency c       connections negotiating at once (default 64)
          --pid p               the server's process id, for CPU time and resident memory from /proc
          --source-base a       first loopback source address (default 127.0.1.1)
          --sources n           source addresses used round robin (default 16), against ephemeral-port exhaustion
          --label l             a name printed with every result line
          --scram-cache file    keep each account's SCRAM SaltedPassword in file (RFC 5802 §5.1) and log in with it
                                when the server offers the same salt; register then also logs every account in once
        """;

    public static bool TryParse(string[] args, out LoadOptions options, out string? error)
    {
        options = new LoadOptions();
        error = null;
        if (args.Length == 0 || args[0] is "-h" or "--help") { error = Usage; return false; }
        var o = new LoadOptions { Scenario = args[0] };
        if (o.Scenario is not ("register" or "storm" or "chat" or "roster" or "presence" or "muc")) { error = "unknown scenario: " + o.Scenario; return false; }
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--password-suffix") { o = o with { PasswordSuffix = true }; continue; }
            if (i + 1 >= args.Length) { error = "missing value for " + name; return false; }
            var value = args[++i];
            try
            {
                o = name switch
                {
                    "--server" => o with { Server = ParseEndPoint(value) },
                    "--domain" => o with { Domain = value },
                    "--users" => o with { Users = Positive(value) },
                    "--first-user" => o with { FirstUser = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--user-prefix" => o with { UserPrefix = value },
                    "--password" => o with { Password = value },
                    "--tls" => o with { Tls = value switch { "starttls" => true, "plain" => false, _ => throw new FormatException("starttls or plain") } },
                    "--mechanism" => o with { Mechanism = value is "auto" or "scram-sha-256" or "scram-sha-1" or "plain" ? value : throw new FormatException("auto, scram-sha-256, scram-sha-1 or plain") },
                    "--duration" => o with { Duration = Seconds(value) },
                    "--warmup" => o with { Warmup = Seconds(value) },
                    "--idle" => o with { Idle = Seconds(value) },
                    "--rate" => o with { Rate = double.Parse(value, CultureInfo.InvariantCulture) },
                    "--contacts" => o with { Contacts = Positive(value) },
                    "--room-size" => o with { RoomSize = Positive(value) },
                    "--muc-service" => o with { MucService = value },
                    "--concurrency" => o with { Concurrency = Positive(value) },
                    "--pid" => o with { Pid = Positive(value) },
                    "--source-base" => o with { SourceBase = IPAddress.Parse(value) },
                    "--sources" => o with { Sources = Positive(value) },
                    "--label" => o with { Label = value },
                    "--scram-cache" => o with { ScramCache = new ScramKeyFile(value) },
                    _ => throw new FormatException("unknown option"),
                };
            }
            catch (FormatException e)
            {
                error = $"{name} {value}: {e.Message}";
                return false;
            }
        }
        if (o.Users < 2 && o.Scenario is "chat" or "roster" or "presence" or "muc") { error = o.Scenario + " needs at least 2 users"; return false; }
        if (o.Scenario == "muc" && o.RoomSize < 2) { error = "--room-size must be at least 2"; return false; }
        // Every session is a descriptor here (and one in the server): fail at once rather than at session 20,000.
        if (OpenFileLimit() is { } limit && o.Users + 64 > limit)
        {
            error = $"--users {o.Users} needs more open files than this process may have ({limit}); raise it with ulimit -n";
            return false;
        }
        options = o;
        return true;
    }

    /// <summary>The source address of connection <paramref name="index"/>: --sources addresses from --source-base, round robin.</summary>
    public IPAddress SourceFor(int index)
    {
        var bytes = SourceBase.GetAddressBytes();
        var value = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]) + (uint)(index % Sources);
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }

    /// <summary>The contacts of user <paramref name="index"/>: its neighbours on a ring, --contacts/2 on each side.</summary>
    public IEnumerable<int> ContactsOf(int index)
    {
        var half = Math.Min(Contacts, Users - 1) / 2;
        for (var k = 1; k <= half; k++)
        {
            yield return (index + k) % Users;
            yield return (index - k + Users) % Users;
        }
    }

    public string PasswordFor(string user) => PasswordSuffix ? Password + user[UserPrefix.Length..] : Password;

    public string UserName(int index) => UserPrefix + (FirstUser + index).ToString(CultureInfo.InvariantCulture);

    private static IPEndPoint ParseEndPoint(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon < 0) throw new FormatException("host:port");
        var host = value[..colon];
        var port = int.Parse(value[(colon + 1)..], CultureInfo.InvariantCulture);
        var address = host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
        // The generator is for servers on this machine only.
        if (!IPAddress.IsLoopback(address)) throw new FormatException("only loopback servers are load-tested");
        return new IPEndPoint(address, port);
    }

    private static int Positive(string value)
    {
        var n = int.Parse(value, CultureInfo.InvariantCulture);
        return n > 0 ? n : throw new FormatException("must be positive");
    }

    private static TimeSpan Seconds(string value) => TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));

    // The soft RLIMIT_NOFILE, from /proc/self/limits ("Max open files  <soft>  <hard>  files"); null if unknown.
    private static long? OpenFileLimit()
    {
        const string Key = "Max open files";
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith(Key, StringComparison.Ordinal)) continue;
                var fields = line[Key.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}
