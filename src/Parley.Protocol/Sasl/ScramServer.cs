namespace Parley.Protocol.Sasl;

/// <summary>
/// The server side of one SCRAM exchange (RFC 5802 §5, RFC 7677), with -PLUS channel binding and
/// XEP-0474 downgrade protection. Use: <see cref="ReadClientFirst"/>, look up the credential for
/// <see cref="Username"/>, <see cref="CreateServerFirst"/>, then <see cref="ReadClientFinal"/>.
/// </summary>
public sealed class ScramServer
{
    /// <summary>Starts an exchange.</summary>
    /// <param name="hash">The mechanism's hash.</param>
    /// <param name="plus">Whether the mechanism chosen was the -PLUS variant.</param>
    /// <param name="channelBinding">The connection's channel bindings, or null without TLS.</param>
    /// <param name="offeredMechanisms">The mechanism names the server offered (XEP-0474 hashes them), in offer order.</param>
    public ScramServer(ScramHash hash, bool plus, IChannelBindingSource? channelBinding, IReadOnlyList<string> offeredMechanisms) => throw new NotImplementedException();

    /// <summary>The SASLprep'd (OpaqueString-prepared) username from client-first, after <see cref="ReadClientFirst"/>.</summary>
    public string? Username => throw new NotImplementedException();

    /// <summary>The authorization identity from the GS2 header, or null.</summary>
    public string? AuthorizationId => throw new NotImplementedException();

    /// <summary>Reads client-first-message; null on success, else the failure to report.</summary>
    public SaslFailure? ReadClientFirst(ReadOnlySpan<byte> clientFirst) => throw new NotImplementedException();

    /// <summary>
    /// Makes server-first-message. With a null <paramref name="credential"/> (unknown user) it answers with a
    /// deterministic fake salt so that the exchange fails only at the proof, revealing nothing about the account.
    /// </summary>
    public byte[] CreateServerFirst(ScramCredential? credential) => throw new NotImplementedException();

    /// <summary>Reads client-final-message and verifies the proof; on success returns null and sets <paramref name="serverFinal"/> (the additional data with v=).</summary>
    public SaslFailure? ReadClientFinal(ReadOnlySpan<byte> clientFinal, out byte[]? serverFinal) => throw new NotImplementedException();
}
