namespace Parley.Client.Model;

/// <summary>One XEP-0313 result: the archive's id for the message, when it was archived, and the message.</summary>
public sealed record ArchivedMessage(string Id, DateTimeOffset? Stamp, ChatMessage Message);
