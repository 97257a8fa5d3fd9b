namespace Parley.Protocol;

/// <summary>An expanded XML name: namespace URI and local name.</summary>
public sealed record QName(string Namespace, string LocalName)
{
    // For the writer: a name from a framer's cache (XmlQNameCache) is written again and again, so it keeps its UTF-8
    // forms, made on its first write (Pending until then); a name made in code is mostly written once and keeps
    // nothing (null). Not part of the name's value: equality, hashing and copies ignore it.
    internal Utf8Forms? Utf8;

    /// <summary>A name's UTF-8 forms for the writer: its local name, and its default namespace declaration.</summary>
    internal sealed class Utf8Forms(byte[] localName, byte[] declaration)
    {
        /// <summary>Marks a cached name whose forms are not made yet.</summary>
        public static readonly Utf8Forms Pending = new([], []);

        public readonly byte[] LocalName = localName;
        public readonly byte[] Declaration = declaration;
    }

    private QName(QName original)
    {
        Namespace = original.Namespace;
        LocalName = original.LocalName;
    }

    /// <inheritdoc />
    public bool Equals(QName? other) =>
        other is not null && (ReferenceEquals(this, other) || (Namespace == other.Namespace && LocalName == other.LocalName));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Namespace, LocalName);

    /// <inheritdoc />
    public override string ToString() => Namespace.Length == 0 ? LocalName : "{" + Namespace + "}" + LocalName;
}
