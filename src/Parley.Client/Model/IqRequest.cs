using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>An IQ get or set addressed to this client, with its payload parsed (see <see cref="XmppClient.OnIq{T}"/>).</summary>
public sealed record IqRequest<T>(Jid? From, string Id, IqType Type, T Payload, Element Element);
