namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>
/// How a <see cref="ProsodyTarget"/> federates: the names it resolves through its own hosts file (address, name), whether
/// it insists on certificates (s2s_secure_auth) and any further global configuration lines.
/// </summary>
internal sealed record ProsodyFederation(IReadOnlyList<(string Address, string Name)> Hosts, bool SecureAuth = false, string ExtraConfig = "");
