using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Server.Storage;

/// <summary>An account: its bare JID and SCRAM salted keys (never a password).</summary>
public sealed record Account(Jid Jid, IReadOnlyList<ScramCredential> Credentials, DateTimeOffset CreatedAt);
