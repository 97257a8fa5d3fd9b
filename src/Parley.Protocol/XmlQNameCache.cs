namespace Parley.Protocol;

/// <summary>
/// Reuses one <see cref="QName"/> per (namespace, local name) pair met by a framer. Both strings come from
/// <see cref="XmlNameTable"/>, so they are compared by reference; the table is bounded. It starts small (an idle
/// session meets a dozen names) and doubles when seven eighths full, up to 256 slots.
/// </summary>
internal sealed class XmlQNameCache
{
    private const int MaxSlots = 256;
    private const int MaxEntries = 192;

    private QName?[] _slots = new QName?[16];
    private int _count;

    public QName Get(string ns, string localName)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var i = Hash(ns, localName) & mask;
        while (true)
        {
            var q = slots[i];
            if (q is null) break;
            if (ReferenceEquals(q.Namespace, ns) && ReferenceEquals(q.LocalName, localName)) return q;
            i = (i + 1) & mask;
        }
        var name = new QName(ns, localName);
        if (_count < MaxEntries)
        {
            name.Utf8 = QName.Utf8Forms.Pending;
            if ((_count + 1) * 8 > slots.Length * 7 && slots.Length < MaxSlots)
            {
                Grow();
                Insert(_slots, name);
            }
            else
            {
                slots[i] = name;
            }
            _count++;
        }
        return name;
    }

    // Cheap content hash; equality is by reference since both strings are interned.
    private static int Hash(string ns, string localName) =>
        localName.Length * 31 + localName[0] * 7 + localName[^1] + ns.Length * 17 + (ns.Length == 0 ? 0 : ns[^1] * 5);

    private void Grow()
    {
        var larger = new QName?[_slots.Length * 2];
        foreach (var q in _slots)
        {
            if (q is not null) Insert(larger, q);
        }
        _slots = larger;
    }

    private static void Insert(QName?[] slots, QName name)
    {
        var mask = slots.Length - 1;
        var i = Hash(name.Namespace, name.LocalName) & mask;
        while (slots[i] is not null) i = (i + 1) & mask;
        slots[i] = name;
    }
}
