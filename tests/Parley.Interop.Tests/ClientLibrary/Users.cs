namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>The accounts both targets create up front: each test uses its own, so tests never share roster state.</summary>
public static class Users
{
    public static readonly string[] All =
    [
        "connect", "rostera", "rosterb", "suba", "subb", "msga", "msgb", "capsa", "capsb", "pinga", "pingb", "vcarda",
        "blocka", "carba", "carbb", "mama", "mamb", "muca", "mucb", "peppa", "pepb", "uploada", "iqa", "iqb", "bot", "human", "sma", "smb", "smc", "smd", "sasla", "saslb", "fasta",
    ];
}
