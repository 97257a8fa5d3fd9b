using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>A published item (XEP-0060 §4.3): its publisher's JID, node, id and payload (null when retracted).</summary>
public sealed record PepItem(Jid? Publisher, string Node, string? Id, Element? Payload);
