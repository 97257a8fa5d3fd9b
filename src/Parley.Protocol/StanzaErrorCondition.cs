namespace Parley.Protocol;

/// <summary>RFC 6120 §8.3.3: the defined stanza error conditions.</summary>
public enum StanzaErrorCondition
{
    /// <summary>§8.3.3.1</summary>
    BadRequest,
    /// <summary>§8.3.3.2</summary>
    Conflict,
    /// <summary>§8.3.3.3</summary>
    FeatureNotImplemented,
    /// <summary>§8.3.3.4</summary>
    Forbidden,
    /// <summary>§8.3.3.5</summary>
    Gone,
    /// <summary>§8.3.3.6</summary>
    InternalServerError,
    /// <summary>§8.3.3.7</summary>
    ItemNotFound,
    /// <summary>§8.3.3.8</summary>
    JidMalformed,
    /// <summary>§8.3.3.9</summary>
    NotAcceptable,
    /// <summary>§8.3.3.10</summary>
    NotAllowed,
    /// <summary>§8.3.3.11</summary>
    NotAuthorized,
    /// <summary>§8.3.3.12</summary>
    PolicyViolation,
    /// <summary>§8.3.3.13</summary>
    RecipientUnavailable,
    /// <summary>§8.3.3.14</summary>
    Redirect,
    /// <summary>§8.3.3.15</summary>
    RegistrationRequired,
    /// <summary>§8.3.3.16</summary>
    RemoteServerNotFound,
    /// <summary>§8.3.3.17</summary>
    RemoteServerTimeout,
    /// <summary>§8.3.3.18</summary>
    ResourceConstraint,
    /// <summary>§8.3.3.19</summary>
    ServiceUnavailable,
    /// <summary>§8.3.3.20</summary>
    SubscriptionRequired,
    /// <summary>§8.3.3.21</summary>
    UndefinedCondition,
    /// <summary>§8.3.3.22</summary>
    UnexpectedRequest,
}

/// <summary>RFC 6120 §8.3.2: the error types.</summary>
public enum StanzaErrorType
{
    /// <summary>Retry after providing credentials.</summary>
    Auth,
    /// <summary>Do not retry.</summary>
    Cancel,
    /// <summary>Proceed; the condition was only a warning.</summary>
    Continue,
    /// <summary>Retry after changing the data sent.</summary>
    Modify,
    /// <summary>Retry after waiting.</summary>
    Wait,
}
