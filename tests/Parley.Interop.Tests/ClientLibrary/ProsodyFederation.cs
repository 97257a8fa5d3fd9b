namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>
/// How a <see cref="ProsodyTarget"/> federates: the names it resolves through its own hosts file (address, name), whether
/// it insists on certificates (s2s_secure_auth), any further global configuration lines, and optionally a test CA that
/// issues its certificate (<paramref name="Issue"/>: domain to PEM certificate and key paths) and that it trusts.
/// </summary>
internal sealed record ProsodyFederation(IReadOnlyList<(string Address, string Name)> Hosts, bool SecureAuth = false, string ExtraConfig = "",
    Func<string, (string Certificate, string Key)>? Issue = null, string? CaFile = null);
