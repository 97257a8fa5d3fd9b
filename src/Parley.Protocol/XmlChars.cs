using System.Buffers;

namespace Parley.Protocol;

/// <summary>Byte and character classes of XML 1.0 (Fifth Edition) used by the framer and the writer.</summary>
internal static class XmlChars
{
    /// <summary>Bytes that may occur in a name: ASCII NameChar plus every non-ASCII byte (validated separately).</summary>
    public static readonly SearchValues<byte> NameBytes = SearchValues.Create(BuildNameBytes());

    /// <summary>Bytes in character data that need attention: references, line ends, ']]&gt;', control characters,
    /// and 0xEF (the lead byte of U+FFFE and U+FFFF, which are not XML characters).</summary>
    public static readonly SearchValues<byte> TextSpecials = SearchValues.Create(BuildSpecials("&\r>"u8));

    /// <summary><see cref="TextSpecials"/> plus every non-ASCII byte: text without any of them is plain ASCII.</summary>
    public static readonly SearchValues<byte> TextSpecialsOrNonAscii = SearchValues.Create([.. BuildSpecials("&\r>"u8), .. NonAscii()]);

    /// <summary>Per byte, flags: 0 outside names; 1 name byte, plus 2 for the colon, plus 4 for non-ASCII bytes
    /// (validated when the name is decoded).</summary>
    public static readonly byte[] NameClasses = BuildNameClasses();

    /// <summary>Bytes in an attribute value that need attention (XML 1.0 §3.3.3 normalization included).</summary>
    public static readonly SearchValues<byte> AttributeSpecials = SearchValues.Create(BuildSpecials("&<\t\n\r"u8));

    /// <summary><see cref="AttributeSpecials"/> plus every non-ASCII byte.</summary>
    public static readonly SearchValues<byte> AttributeSpecialsOrNonAscii = SearchValues.Create([.. BuildSpecials("&<\t\n\r"u8), .. NonAscii()]);

    /// <summary><see cref="AttributeSpecialsOrNonAscii"/> plus what the writer escapes in a value, both quotes and '&gt;':
    /// an attribute value without any of them is kept as its bytes and written as they are.</summary>
    public static readonly SearchValues<byte> NotPlainAttributeBytes = SearchValues.Create([.. BuildSpecials("&<\t\n\r'\">"u8), .. NonAscii()]);

    /// <summary>Bytes in a CDATA section that need attention.</summary>
    public static readonly SearchValues<byte> CDataSpecials = SearchValues.Create(BuildSpecials("\r"u8));

    /// <summary>Bytes that matter while skipping over a start tag.</summary>
    public static readonly SearchValues<byte> TagSpecials = SearchValues.Create(">\"'/"u8);

    /// <summary>XML white space (S production).</summary>
    public static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);

    public static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>Whether a byte can start a name (non-ASCII bytes are checked when the name is decoded).</summary>
    public static bool IsNameStartByte(byte b) =>
        (uint)((b | 0x20) - 'a') <= 'z' - 'a' || b is (byte)'_' or (byte)':' || b >= 0x80;

    /// <summary>XML 1.0 §2.2 Char.</summary>
    public static bool IsXmlChar(int c) =>
        c >= 0x20 ? (c <= 0xD7FF || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF))
                  : c is 0x9 or 0xA or 0xD;

    /// <summary>XML 1.0 §2.3 NameStartChar.</summary>
    public static bool IsNameStartChar(int c) =>
        c < 0x80
            ? (uint)((c | 0x20) - 'a') <= 'z' - 'a' || c is '_' or ':'
            : (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF)
              || (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D)
              || (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF)
              || (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);

    /// <summary>XML 1.0 §2.3 NameChar.</summary>
    public static bool IsNameChar(int c) =>
        IsNameStartChar(c) || (c >= '0' && c <= '9') || c is '-' or '.' or 0xB7
        || (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);

    private static byte[] NonAscii()
    {
        var bytes = new byte[128];
        for (var i = 0; i < 128; i++) bytes[i] = (byte)(0x80 + i);
        return bytes;
    }

    private static byte[] BuildNameClasses()
    {
        var classes = new byte[256];
        foreach (var b in BuildNameBytes()) classes[b] = (byte)(b >= 0x80 ? 5 : 1);
        classes[':'] = 3;
        return classes;
    }

    private static byte[] BuildNameBytes()
    {
        var bytes = new List<byte>();
        for (var b = 0; b < 256; b++)
        {
            if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                || b is '_' or ':' or '-' or '.' || b >= 0x80)
                bytes.Add((byte)b);
        }
        return [.. bytes];
    }

    private static byte[] BuildSpecials(ReadOnlySpan<byte> extra)
    {
        var bytes = new List<byte>(extra.ToArray());
        for (var b = 0; b < 0x20; b++)
        {
            if (b is not ('\t' or '\n' or '\r')) bytes.Add((byte)b);
        }
        bytes.Add(0xEF);
        return [.. bytes];
    }
}
