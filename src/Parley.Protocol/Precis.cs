using System.Text;

namespace Parley.Protocol;

/// <summary>PRECIS profiles (RFC 8264, RFC 8265). Interim version: width/case/NFC only.</summary>
internal static class Precis
{
    /// <summary>RFC 8265 §3.3 UsernameCaseMapped (JID localparts).</summary>
    public static bool TryPrepareUsernameCaseMapped(string input, out string output)
    {
        output = input.Normalize(NormalizationForm.FormC).ToLowerInvariant();
        return output.Length > 0;
    }

    /// <summary>RFC 8265 §4.2 OpaqueString (resourceparts, passwords).</summary>
    public static bool TryPrepareOpaqueString(string input, out string output)
    {
        output = input.Normalize(NormalizationForm.FormC);
        return output.Length > 0;
    }
}
