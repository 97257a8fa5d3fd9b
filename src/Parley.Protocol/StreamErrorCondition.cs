namespace Parley.Protocol;

/// <summary>RFC 6120 §4.9.3: the defined stream error conditions.</summary>
public enum StreamErrorCondition
{
    /// <summary>§4.9.3.1</summary>
    BadFormat,
    /// <summary>§4.9.3.2</summary>
    BadNamespacePrefix,
    /// <summary>§4.9.3.3</summary>
    Conflict,
    /// <summary>§4.9.3.4</summary>
    ConnectionTimeout,
    /// <summary>§4.9.3.5</summary>
    HostGone,
    /// <summary>§4.9.3.6</summary>
    HostUnknown,
    /// <summary>§4.9.3.7</summary>
    ImproperAddressing,
    /// <summary>§4.9.3.8</summary>
    InternalServerError,
    /// <summary>§4.9.3.9</summary>
    InvalidFrom,
    /// <summary>§4.9.3.10</summary>
    InvalidNamespace,
    /// <summary>§4.9.3.11</summary>
    InvalidXml,
    /// <summary>§4.9.3.12</summary>
    NotAuthorized,
    /// <summary>§4.9.3.13</summary>
    NotWellFormed,
    /// <summary>§4.9.3.14</summary>
    PolicyViolation,
    /// <summary>§4.9.3.15</summary>
    RemoteConnectionFailed,
    /// <summary>§4.9.3.16</summary>
    Reset,
    /// <summary>§4.9.3.17</summary>
    ResourceConstraint,
    /// <summary>§4.9.3.18</summary>
    RestrictedXml,
    /// <summary>§4.9.3.19</summary>
    SeeOtherHost,
    /// <summary>§4.9.3.20</summary>
    SystemShutdown,
    /// <summary>§4.9.3.21</summary>
    UndefinedCondition,
    /// <summary>§4.9.3.22</summary>
    UnsupportedEncoding,
    /// <summary>§4.9.3.23</summary>
    UnsupportedFeature,
    /// <summary>§4.9.3.24</summary>
    UnsupportedStanzaType,
    /// <summary>§4.9.3.25</summary>
    UnsupportedVersion,
}
