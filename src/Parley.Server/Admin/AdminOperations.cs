using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Admin;

/// <summary>
/// The administrative operations that need the running server (its sessions): shared by the XEP-0133 ad-hoc
/// commands and the local admin socket the `parley` CLI talks to.
/// </summary>
public sealed class AdminOperations(SessionRegistry sessions, Addresses addresses)
{
    /// <summary>The accounts with at least one bound session, sorted.</summary>
    public List<string> OnlineAccounts()
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var s in sessions.All) set.Add(s.Jid.Bare.ToString());
        return [.. set];
    }

    /// <summary>How many sessions are bound.</summary>
    public int SessionCount => sessions.Count;

    /// <summary>Sends a headline message from the server to every bound session; returns how many took it.</summary>
    public int Announce(string? subject, string body)
    {
        var sent = 0;
        foreach (var session in sessions.All)
        {
            var message = new Element("message", Ns.Client).SetAttribute("type", "headline")
                .SetAttribute("from", addresses.Domain).SetAttribute("to", session.Jid.ToString());
            if (!string.IsNullOrEmpty(subject)) message.Add(new Element("subject", Ns.Client).AddText(subject));
            message.Add(new Element("body", Ns.Client).AddText(body));
            if (session.TryDeliver(message)) sent++;
        }
        return sent;
    }

    /// <summary>Closes every session of an account (after it was deleted); returns how many there were.</summary>
    public async Task<int> EndSessionsAsync(Jid account, string reason, CancellationToken ct)
    {
        var resources = sessions.Resources(account);
        foreach (var s in resources)
            await s.CloseAsync(StreamError.NotAuthorized(reason), ct).ConfigureAwait(false);
        return resources.Length;
    }
}
