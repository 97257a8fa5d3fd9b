namespace Parley.Client.Model;

/// <summary>XEP-0280: whether a message is a carbon copy, and of which direction.</summary>
public enum CarbonDirection
{
    /// <summary>Not a carbon: the message was sent to this resource.</summary>
    None,
    /// <summary>A copy of a message another resource of the account received.</summary>
    Received,
    /// <summary>A copy of a message another resource of the account sent.</summary>
    Sent,
}
