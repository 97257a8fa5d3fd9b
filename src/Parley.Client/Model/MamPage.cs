namespace Parley.Client.Model;

/// <summary>
/// One page of a XEP-0313 query with its XEP-0059 set: the first and last ids (for paging on with
/// <c>after</c>/<c>before</c>), the size of the whole result set when the archive gave it, and whether the query is
/// complete in the direction it was paged.
/// </summary>
public sealed record MamPage(IReadOnlyList<ArchivedMessage> Messages, string? First, string? Last, int? Count, bool Complete);
