namespace Parley.Protocol.Sasl;

/// <summary>Supplies channel-binding data of the current TLS connection.</summary>
public interface IChannelBindingSource
{
    /// <summary>The types this connection can supply, most preferred first (XEP-0440 advertises these).</summary>
    IReadOnlyList<string> Types { get; }

    /// <summary>The channel-binding data for <paramref name="type"/>, or null when unavailable.</summary>
    byte[]? GetBindingData(string type);
}
