namespace Parley.Client.Model;

/// <summary>The outcome of entering a room (XEP-0045 §7.2): the nick the room gave, and the status codes of the
/// self-presence (201: the room was created and is locked until configured; 210: the nick was changed; 100: the room is
/// non-anonymous; 170: it is logged).</summary>
public sealed record MucJoin(string Nick, IReadOnlySet<int> StatusCodes, MucOccupant Self)
{
    /// <summary>Whether entering created the room (status 201).</summary>
    public bool Created => StatusCodes.Contains(201);
}
