namespace Parley.Protocol.Sasl;

/// <summary>The client side of one SCRAM exchange (RFC 5802 §5), with -PLUS and XEP-0474 checking.</summary>
public sealed class ScramClient
{
    /// <summary>Starts an exchange.</summary>
    /// <param name="hash">The mechanism's hash.</param>
    /// <param name="plus">Whether the -PLUS variant is used (then <paramref name="channelBinding"/> and <paramref name="bindingType"/> are required).</param>
    /// <param name="username">The username (localpart).</param>
    /// <param name="password">The password.</param>
    /// <param name="channelBinding">The connection's channel bindings, or null.</param>
    /// <param name="bindingType">The channel-binding type to use with -PLUS.</param>
    /// <param name="serverOffersPlus">Whether the server offered any -PLUS mechanism (selects the 'y' GS2 flag when not using -PLUS, RFC 5802 §6).</param>
    /// <param name="offeredMechanisms">The mechanisms the server offered, for XEP-0474 verification; null disables the check.</param>
    /// <param name="clientNonce">A fixed nonce for tests; null for a random one.</param>
    public ScramClient(ScramHash hash, bool plus, string username, string password, IChannelBindingSource? channelBinding,
        string? bindingType, bool serverOffersPlus, IReadOnlyList<string>? offeredMechanisms, string? clientNonce = null) => throw new NotImplementedException();

    /// <summary>The mechanism name, e.g. SCRAM-SHA-256-PLUS.</summary>
    public string MechanismName => throw new NotImplementedException();

    /// <summary>client-first-message.</summary>
    public byte[] CreateClientFirst() => throw new NotImplementedException();

    /// <summary>Reads server-first-message and makes client-final-message; false with a reason when the server's message is unacceptable.</summary>
    public bool TryCreateClientFinal(ReadOnlySpan<byte> serverFirst, out byte[] clientFinal, out string? error) => throw new NotImplementedException();

    /// <summary>Checks the server signature in server-final-message (the success data).</summary>
    public bool VerifyServerFinal(ReadOnlySpan<byte> serverFinal) => throw new NotImplementedException();
}
