using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>One XEP-0030 disco#items item.</summary>
public sealed record DiscoItem(Jid Jid, string? Node, string? Name);
