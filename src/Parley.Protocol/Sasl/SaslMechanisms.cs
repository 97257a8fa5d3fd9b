namespace Parley.Protocol.Sasl;

/// <summary>Mechanism names and their mapping to SCRAM parameters.</summary>
public static class SaslMechanisms
{
    /// <summary>RFC 4616.</summary>
    public const string Plain = "PLAIN";

    /// <summary>The SCRAM mechanism name for a hash and variant.</summary>
    public static string ScramName(ScramHash hash, bool plus) => (hash, plus) switch
    {
        (ScramHash.Sha1, false) => "SCRAM-SHA-1",
        (ScramHash.Sha1, true) => "SCRAM-SHA-1-PLUS",
        (ScramHash.Sha256, false) => "SCRAM-SHA-256",
        (ScramHash.Sha256, true) => "SCRAM-SHA-256-PLUS",
        (ScramHash.Sha512, false) => "SCRAM-SHA-512",
        _ => "SCRAM-SHA-512-PLUS",
    };

    /// <summary>Parses a SCRAM mechanism name.</summary>
    public static bool TryParseScram(string name, out ScramHash hash, out bool plus)
    {
        plus = name.EndsWith("-PLUS", StringComparison.Ordinal);
        var core = plus ? name[..^5] : name;
        switch (core)
        {
            case "SCRAM-SHA-1": hash = ScramHash.Sha1; return true;
            case "SCRAM-SHA-256": hash = ScramHash.Sha256; return true;
            case "SCRAM-SHA-512": hash = ScramHash.Sha512; return true;
            default: hash = default; return false;
        }
    }
}
