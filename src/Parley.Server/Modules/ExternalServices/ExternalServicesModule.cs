using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;

namespace Parley.Server.Modules.ExternalServices;

/// <summary>
/// XEP-0215 external service discovery: the STUN and TURN servers named in ExternalServices, so that clients'
/// Jingle calls find relays; services with a shared secret come with credentials that expire (§3.2, and
/// &lt;credentials/&gt; to ask again). Nothing is advertised when nothing is configured.
/// </summary>
public sealed class ExternalServicesModule(IOptions<ParleyOptions> options, TimeProvider time) : IModule
{
    /// <summary>XEP-0215's namespace.</summary>
    public const string Namespace = "urn:xmpp:extdisco:2";

    private readonly List<ExternalServiceOptions> _services = options.Value.ExternalServices;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("extdisco", Xeps: [215]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        if (_services.Count == 0) return;
        m.Feature(Namespace);
        m.OnIq<ServicesQuery>(IqType.Get, IqTarget.Server, (iq, _) =>
        {
            // §3.1: all services, or those of one type.
            var type = iq.Payload.Element.GetAttribute("type");
            var reply = new Element("services", Namespace);
            if (type is not null) reply.SetAttribute("type", type);
            foreach (var s in _services)
                if (type is null || s.Type == type) reply.Add(Describe(s, iq.From));
            return ValueTask.FromResult(IqReply.Ok(new ServicesQuery(reply)));
        });
        m.OnIq<CredentialsQuery>(IqType.Get, IqTarget.Server, (iq, _) =>
        {
            // §3.3: credentials for one service, named by host and type (and port, when given).
            var wanted = iq.Payload.Element.Child("service", Namespace);
            if (wanted?.GetAttribute("host") is not { } host || wanted.GetAttribute("type") is not { } type)
                return ValueTask.FromResult<IqReply>(StanzaError.BadRequest("Name the service by host and type"));
            var port = wanted.GetAttribute("port");
            foreach (var s in _services)
            {
                if (s.Host != host || s.Type != type || (port is not null && port != PortOf(s).ToString(CultureInfo.InvariantCulture))) continue;
                if (s.Secret is null) break;
                return ValueTask.FromResult(IqReply.Ok(new CredentialsQuery(new Element("credentials", Namespace).Add(Describe(s, iq.From)))));
            }
            return ValueTask.FromResult<IqReply>(StanzaError.ItemNotFound("No such service with credentials"));
        });
    }

    private static int PortOf(ExternalServiceOptions s) => s.Port != 0 ? s.Port : s.Type is "stuns" or "turns" ? 5349 : 3478;

    private Element Describe(ExternalServiceOptions s, Jid requester)
    {
        var e = new Element("service", Namespace)
            .SetAttribute("type", s.Type)
            .SetAttribute("host", s.Host)
            .SetAttribute("port", PortOf(s).ToString(CultureInfo.InvariantCulture))
            .SetAttribute("transport", s.Transport);
        if (s.Secret is not null)
        {
            var (username, password, expires) = Credentials(s.Secret, requester.Bare, time.GetUtcNow().AddSeconds(s.CredentialSeconds));
            e.SetAttribute("username", username).SetAttribute("password", password)
                .SetAttribute("expires", expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))
                .SetAttribute("restricted", "1");
        }
        return e;
    }

    /// <summary>The TURN REST scheme: username "expiry:user", password base64(HMAC-SHA1(secret, username)).</summary>
    internal static (string Username, string Password, DateTimeOffset Expires) Credentials(string secret, Jid user, DateTimeOffset expires)
    {
        var username = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + ":" + user;
        // The scheme (and coturn's use-auth-secret) fixes HMAC-SHA1; it only authenticates a short-lived username.
#pragma warning disable CA5350
        var password = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username)));
#pragma warning restore CA5350
        return (username, password, DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }
}

/// <summary>XEP-0215 &lt;services/&gt;.</summary>
public sealed record ServicesQuery(Element Element) : IPayload<ServicesQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(ExternalServicesModule.Namespace, "services");

    /// <inheritdoc />
    public static ServicesQuery Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}

/// <summary>XEP-0215 &lt;credentials/&gt;.</summary>
public sealed record CredentialsQuery(Element Element) : IPayload<CredentialsQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(ExternalServicesModule.Namespace, "credentials");

    /// <inheritdoc />
    public static CredentialsQuery Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}
