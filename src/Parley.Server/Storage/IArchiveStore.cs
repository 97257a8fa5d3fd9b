using Parley.Protocol;

namespace Parley.Server.Storage;

/// <summary>One archived message (XEP-0313): its archive id (also its XEP-0359 stanza id), when it was archived, the other party.</summary>
public sealed record ArchivedMessage(string Id, DateTimeOffset Timestamp, Jid With, Element Message);

/// <summary>
/// An archive query (XEP-0313 §4.1 filters, XEP-0059 paging). <see cref="AfterId"/> and <see cref="BeforeId"/> are
/// the form's filters (part of the result set); <see cref="PageAfter"/> and <see cref="PageBefore"/> page within it.
/// </summary>
public sealed record ArchiveQuery
{
    /// <summary>The other party: a bare JID matches every resource, a full JID only itself.</summary>
    public Jid? With { get; init; }

    /// <summary>Archived at or after.</summary>
    public DateTimeOffset? Start { get; init; }

    /// <summary>Archived at or before.</summary>
    public DateTimeOffset? End { get; init; }

    /// <summary>Only messages archived after this one.</summary>
    public string? AfterId { get; init; }

    /// <summary>Only messages archived before this one.</summary>
    public string? BeforeId { get; init; }

    /// <summary>Only these messages.</summary>
    public IReadOnlyList<string>? Ids { get; init; }

    /// <summary>RSM &lt;after/&gt;: the page starts after this one.</summary>
    public string? PageAfter { get; init; }

    /// <summary>RSM &lt;before/&gt;: the page ends before this one; with <see cref="FromEnd"/> and no id, the last page.</summary>
    public string? PageBefore { get; init; }

    /// <summary>Page backwards: the page is the last <see cref="Max"/> items (before <see cref="PageBefore"/>).</summary>
    public bool FromEnd { get; init; }

    /// <summary>Page size; 0 asks only for the count (XEP-0059 §2.7).</summary>
    public int Max { get; init; }
}

/// <summary>A page: items oldest first, the size of the whole result set, whether paging in its direction is done, the index of its first item.</summary>
public sealed record ArchivePage(IReadOnlyList<ArchivedMessage> Items, int Count, bool Complete, int FirstIndex);

/// <summary>The message archive shape: append, query with an index, bounds, retention.</summary>
public interface IArchiveStore
{
    /// <summary>Archives a message for an account.</summary>
    Task AppendAsync(Jid account, ArchivedMessage message, CancellationToken ct);

    /// <summary>Runs a query; null when an id it names is not in the archive (item-not-found).</summary>
    Task<ArchivePage?> QueryAsync(Jid account, ArchiveQuery query, CancellationToken ct);

    /// <summary>The oldest and newest archived messages (XEP-0313 §5.1 metadata).</summary>
    Task<(ArchivedMessage? First, ArchivedMessage? Last)> BoundsAsync(Jid account, CancellationToken ct);

    /// <summary>Replaces an archived message (a XEP-0424/0425 tombstone); false when there is no such id.</summary>
    Task<bool> ReplaceAsync(Jid account, string id, Element message, CancellationToken ct);

    /// <summary>How many messages are archived, for every account and room together (for metrics).</summary>
    Task<long> CountAllAsync(CancellationToken ct);

    /// <summary>Deletes an account's archive.</summary>
    Task DeleteAllAsync(Jid account, CancellationToken ct);

    /// <summary>Deletes everything archived before <paramref name="cutoff"/>; returns how many messages.</summary>
    Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken ct);
}
