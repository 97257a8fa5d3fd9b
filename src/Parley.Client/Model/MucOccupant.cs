using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>An occupant of a room (XEP-0045 §7.2.2): nick, role, affiliation, and the real JID when the room shows it.</summary>
public sealed record MucOccupant(string Nick, string Role, string Affiliation, Jid? RealJid);
