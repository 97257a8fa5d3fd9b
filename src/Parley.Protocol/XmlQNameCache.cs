namespace Parley.Protocol;

/// <summary>
/// Reuses one <see cref="QName"/> per (namespace, local name) pair met by a framer. Both strings come from
/// <see cref="XmlNameTable"/>, so they are compared by reference; the table is bounded.
/// </summary>
internal sealed class XmlQNameCache
{
    private const int Slots = 256;
    private const int MaxEntries = 192;

    private readonly QName?[] _slots = new QName?[Slots];
    private int _count;

    public QName Get(string ns, string localName)
    {
        // Cheap content hash; equality is by reference since both strings are interned.
        var i = (localName.Length * 31 + localName[0] * 7 + localName[^1] + ns.Length * 17 + (ns.Length == 0 ? 0 : ns[^1] * 5)) & (Slots - 1);
        while (true)
        {
            var q = _slots[i];
            if (q is null) break;
            if (ReferenceEquals(q.Namespace, ns) && ReferenceEquals(q.LocalName, localName)) return q;
            i = (i + 1) & (Slots - 1);
        }
        var name = new QName(ns, localName);
        if (_count < MaxEntries)
        {
            _slots[i] = name;
            _count++;
        }
        return name;
    }
}
