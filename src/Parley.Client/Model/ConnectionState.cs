namespace Parley.Client.Model;

/// <summary>Where an <see cref="XmppClient"/>'s connection stands.</summary>
public enum ConnectionState
{
    /// <summary>Not connected yet.</summary>
    Disconnected,
    /// <summary>Connected and negotiated; stanzas flow.</summary>
    Connected,
    /// <summary>The connection was lost; reconnecting (stanzas sent meanwhile are queued, XEP-0198).</summary>
    Reconnecting,
    /// <summary>Closed for good.</summary>
    Closed,
}
