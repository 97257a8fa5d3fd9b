namespace Parley.Client.Model;

/// <summary>XEP-0085 chat states.</summary>
public enum ChatState
{
    /// <summary>No chat state in the message.</summary>
    None,
    /// <summary>Actively participating.</summary>
    Active,
    /// <summary>Composing a message.</summary>
    Composing,
    /// <summary>Paused composing.</summary>
    Paused,
    /// <summary>Not actively participating.</summary>
    Inactive,
    /// <summary>Gone from the conversation.</summary>
    Gone,
}
