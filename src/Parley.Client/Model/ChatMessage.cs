using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>
/// A message stanza read into its common parts (RFC 6121 §5): addresses, type, body, subject and thread, the
/// XEP-0085 chat state, XEP-0184 receipts, the XEP-0359 stanza id the server stamped, XEP-0203 delay, and whether it
/// is a XEP-0280 carbon. <see cref="Element"/> keeps the whole stanza for anything else.
/// </summary>
public sealed record ChatMessage
{
    /// <summary>The sender (for a carbon, the original message's sender).</summary>
    public Jid? From { get; init; }

    /// <summary>The recipient (for a carbon, the original message's recipient).</summary>
    public Jid? To { get; init; }

    /// <summary>The 'type' attribute ("normal" when absent, RFC 6121 §5.2.2).</summary>
    public string Type { get; init; } = "normal";

    /// <summary>The 'id' attribute.</summary>
    public string? Id { get; init; }

    /// <summary>The body, or null.</summary>
    public string? Body { get; init; }

    /// <summary>The subject, or null.</summary>
    public string? Subject { get; init; }

    /// <summary>The thread, or null.</summary>
    public string? Thread { get; init; }

    /// <summary>The XEP-0085 chat state.</summary>
    public ChatState ChatState { get; init; }

    /// <summary>XEP-0184: the sender asks for a receipt.</summary>
    public bool RequestsReceipt { get; init; }

    /// <summary>XEP-0184: the id of the message this is a receipt for, or null.</summary>
    public string? ReceiptFor { get; init; }

    /// <summary>XEP-0359: the stanza id stamped by <see cref="StanzaIdBy"/>, or null.</summary>
    public string? StanzaId { get; init; }

    /// <summary>XEP-0359: who stamped <see cref="StanzaId"/>.</summary>
    public string? StanzaIdBy { get; init; }

    /// <summary>XEP-0203: when the message was originally sent, if it was delayed.</summary>
    public DateTimeOffset? Delay { get; init; }

    /// <summary>XEP-0280: whether this is a carbon copy.</summary>
    public CarbonDirection Carbon { get; init; }

    /// <summary>The message element (for a carbon, the forwarded message).</summary>
    public required Element Element { get; init; }

    /// <summary>Reads a message element.</summary>
    public static ChatMessage Parse(Element message, CarbonDirection carbon = CarbonDirection.None, DateTimeOffset? delay = null)
    {
        string? body = null, subject = null, thread = null, receiptFor = null, stanzaId = null, stanzaIdBy = null;
        var state = ChatState.None;
        var requests = false;
        foreach (var child in message.Children)
        {
            switch (child.Namespace)
            {
                case Ns.Client:
                    switch (child.LocalName)
                    {
                        case "body": body ??= child.Text; break;
                        case "subject": subject ??= child.Text; break;
                        case "thread": thread ??= child.Text; break;
                    }
                    break;
                case Ns.ChatStates:
                    state = child.LocalName switch
                    {
                        "active" => ChatState.Active,
                        "composing" => ChatState.Composing,
                        "paused" => ChatState.Paused,
                        "inactive" => ChatState.Inactive,
                        "gone" => ChatState.Gone,
                        _ => state,
                    };
                    break;
                case Ns.Receipts:
                    if (child.LocalName == "request") requests = true;
                    else if (child.LocalName == "received") receiptFor = child.GetAttribute("id");
                    break;
                case Ns.StanzaId when child.LocalName == "stanza-id":
                    stanzaId = child.GetAttribute("id");
                    stanzaIdBy = child.GetAttribute("by");
                    break;
                case Ns.Delay when child.LocalName == "delay" && delay is null:
                    if (DateTimeOffset.TryParse(child.GetAttribute("stamp"), System.Globalization.CultureInfo.InvariantCulture,
                            System.Globalization.DateTimeStyles.AssumeUniversal, out var stamp)) delay = stamp;
                    break;
            }
        }
        return new ChatMessage
        {
            From = JidText.Parse(message.GetAttribute("from")),
            To = JidText.Parse(message.GetAttribute("to")),
            Type = message.GetAttribute("type") ?? "normal",
            Id = message.GetAttribute("id"),
            Body = body,
            Subject = subject,
            Thread = thread,
            ChatState = state,
            RequestsReceipt = requests,
            ReceiptFor = receiptFor,
            StanzaId = stanzaId,
            StanzaIdBy = stanzaIdBy,
            Delay = delay,
            Carbon = carbon,
            Element = message,
        };
    }
}
