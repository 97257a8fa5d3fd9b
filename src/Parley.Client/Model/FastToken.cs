namespace Parley.Client.Model;

/// <summary>
/// A XEP-0484 FAST token: a secret the server issued to this client (identified by
/// <see cref="XmppClientOptions.UserAgentId"/>) for the given HT mechanism, until <see cref="Expiry"/>. Store it like a
/// password; give it back in <see cref="XmppClientOptions.FastToken"/> to log in without the password.
/// </summary>
public sealed record FastToken(string Token, string Mechanism, DateTimeOffset Expiry);
