namespace Parley.Protocol.Sasl;

/// <summary>RFC 6120 §6.5: SASL failure conditions.</summary>
public enum SaslFailure
{
    /// <summary>§6.5.1</summary>
    Aborted,
    /// <summary>§6.5.2</summary>
    AccountDisabled,
    /// <summary>§6.5.3</summary>
    CredentialsExpired,
    /// <summary>§6.5.4</summary>
    EncryptionRequired,
    /// <summary>§6.5.5</summary>
    IncorrectEncoding,
    /// <summary>§6.5.6</summary>
    InvalidAuthzid,
    /// <summary>§6.5.7</summary>
    InvalidMechanism,
    /// <summary>§6.5.8</summary>
    MalformedRequest,
    /// <summary>§6.5.9</summary>
    MechanismTooWeak,
    /// <summary>§6.5.10</summary>
    NotAuthorized,
    /// <summary>§6.5.11</summary>
    TemporaryAuthFailure,
}
