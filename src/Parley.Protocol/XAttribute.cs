namespace Parley.Protocol;

/// <summary>One attribute of an <see cref="Element"/>. <see cref="Namespace"/> is empty for unqualified
/// attributes (all of XMPP's own) and <see cref="Ns.Xml"/> for <c>xml:lang</c>.</summary>
public readonly record struct XAttribute(string Name, string Value, string Namespace = "");
