using System.Text;
using System.Text.RegularExpressions;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// A transcript: actors and the XML each sends and receives, in order. Format:
/// <code>
/// # comment
/// [alice] alice@example.test/phone
/// alice sends:
///   &lt;iq type='get' id='p1' to='example.test'&gt;&lt;ping xmlns='urn:xmpp:ping'/&gt;&lt;/iq&gt;
/// alice receives:
///   &lt;iq type='result' id='p1' from='example.test' to='{alice}'/&gt;
/// </code>
/// {name} is an actor's full JID, {name.bare} its bare JID, {domain} the server, {*} any value. An actor named by a
/// bare domain (<c>[irc] irc.example.test</c>) is an external component (XEP-0114) configured for that domain.
/// </summary>
public sealed partial class Transcript
{
    public required string Name { get; init; }
    public List<(string Actor, string Jid)> Actors { get; } = [];
    public List<Step> Steps { get; } = [];

    public sealed record Step(string Actor, bool Sends, string Xml, int Line);

    public static Transcript Parse(string name, string text)
    {
        var t = new Transcript { Name = name };
        string? actor = null;
        bool sends = false;
        var xml = new StringBuilder();
        var startLine = 0;
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        void Flush()
        {
            if (actor is not null && xml.ToString().Trim().Length > 0)
                t.Steps.Add(new Step(actor, sends, xml.ToString().Trim(), startLine));
            xml.Clear();
            actor = null;
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (trimmed.StartsWith('#')) continue;
            var actorMatch = ActorLine().Match(trimmed);
            if (actorMatch.Success)
            {
                Flush();
                t.Actors.Add((actorMatch.Groups[1].Value, actorMatch.Groups[2].Value));
                continue;
            }
            var stepMatch = StepLine().Match(trimmed);
            if (stepMatch.Success)
            {
                Flush();
                actor = stepMatch.Groups[1].Value;
                sends = stepMatch.Groups[2].Value == "sends";
                startLine = i + 1;
                continue;
            }
            if (actor is not null) xml.AppendLine(line);
            else if (trimmed.Length > 0) throw new FormatException($"{name}:{i + 1}: unexpected line '{trimmed}'");
        }
        Flush();
        return t;
    }

    [GeneratedRegex(@"^\[(\w+)\]\s+(\S+)$")]
    private static partial Regex ActorLine();

    [GeneratedRegex(@"^(\w+) (sends|receives):$")]
    private static partial Regex StepLine();
}
