namespace Parley.Protocol;

/// <summary>An expanded XML name: namespace URI and local name.</summary>
public sealed record QName(string Namespace, string LocalName)
{
    /// <inheritdoc />
    public override string ToString() => Namespace.Length == 0 ? LocalName : "{" + Namespace + "}" + LocalName;
}
