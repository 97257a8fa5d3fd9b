using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;

namespace Parley.Server.Connections;

/// <summary>
/// XEP-0124 BOSH carrying XEP-0206 XMPP at <c>/http-bind</c> on the HTTPS listener. Each POST holds one
/// &lt;body/&gt; wrapper; a session runs the same <see cref="XmppStream"/> as TCP, in framing mode (see
/// <see cref="WebSocketEndpoint"/>). Bodies are parsed with the stream's own strict parser: no DTD, no processing
/// instructions, no comments, bounded size and depth. Browsers on other origins get CORS answers.
/// </summary>
public static class BoshEndpoint
{
    /// <summary>The path of the endpoint.</summary>
    public const string Path = "/http-bind";

    private const string ContentType = "text/xml; charset=utf-8";

    // XEP-0124 §14.1: a rid is a positive integer never above 2^53 - 1.
    private const long MaxRid = 9007199254740991;

    /// <summary>Maps the endpoint.</summary>
    public static void Map(WebApplication app, BoshOptions options) =>
        app.Map(Path, (HttpContext http) => HandleAsync(http, options));

    /// <summary>The BOSH URL clients should use.</summary>
    public static string Url(HttpContext http, BoshOptions options) =>
        options.PublicUrl ?? "https://" + http.Request.Host.Value + Path;

    private static async Task HandleAsync(HttpContext http, BoshOptions options)
    {
        // Browsers say where the page came from; a configured list keeps other sites' pages out.
        var origin = http.Request.Headers.Origin.ToString();
        if (!Origins.Allowed(options.AllowedOrigins, origin))
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        if (origin.Length > 0)
        {
            http.Response.Headers.AccessControlAllowOrigin = options.AllowedOrigins.Count == 0 ? "*" : origin;
            if (options.AllowedOrigins.Count > 0) http.Response.Headers.Vary = "Origin";
        }
        if (HttpMethods.IsOptions(http.Request.Method))
        {
            // CORS preflight: a text/xml POST is not a simple request.
            http.Response.Headers.AccessControlAllowMethods = "POST, OPTIONS";
            http.Response.Headers.AccessControlAllowHeaders = "Content-Type";
            http.Response.Headers.AccessControlMaxAge = "86400";
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            // XEP-0124 §5: every request is a POST.
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            http.Response.Headers.Allow = "POST, OPTIONS";
            await http.Response.WriteAsync("XMPP over BOSH (XEP-0124, XEP-0206): POST <body/> elements here\n").ConfigureAwait(false);
            return;
        }
        var reply = await ReadAndDispatchAsync(http, options).ConfigureAwait(false);
        if (reply is not { } r) return;
        http.Response.StatusCode = r.Status;
        http.Response.ContentType = r.ContentType ?? ContentType;
        http.Response.Headers.CacheControl = "no-store";
        // §7.1 'content' may ask for another type (text/html); the bytes are XML all the same, never to be sniffed.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.ContentLength = r.Body.Length;
        try
        {
            await http.Response.Body.WriteAsync(r.Body, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away while its request was held; it sends the same rid again for this answer (§14.3).
        }
    }

    // Null when the client went away before its body arrived.
    private static async Task<BoshReply?> ReadAndDispatchAsync(HttpContext http, BoshOptions options)
    {
        var max = options.MaxBodyBytes;
        // §17.2 policy-violation, with the HTTP status for a body too large.
        var tooLarge = BoshReply.Terminate(StatusCodes.Status413PayloadTooLarge, "policy-violation");
        if (http.Request.ContentLength > max) return tooLarge;
        var reader = http.Request.BodyReader;
        ReadResult read;
        try
        {
            read = await reader.ReadAtLeastAsync(max + 1, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return null;
        }
        Element? body;
        string? problem;
        try
        {
            if (read.Buffer.Length > max) return tooLarge;
            var depth = http.RequestServices.GetRequiredService<C2sServices>().Options.Limits.MaxDepth + 1;
            body = TryParse(read.Buffer, depth, out problem);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
        long rid = 0;
        if (body is not null && !TryRid(body, out rid)) problem = "The 'rid' attribute must be a positive integer (XEP-0124 §14.1)";
        var sessions = http.RequestServices.GetRequiredService<BoshSessions>();
        if (body is null || problem is not null)
        {
            BoshLog.BadRequest(sessions.Log, http.Connection.RemoteIpAddress?.ToString(), problem ?? "");
            // §17.2 bad-request, with its HTTP status (§17.1): the session, if any, cannot be told apart.
            return BoshReply.Terminate(StatusCodes.Status400BadRequest, "bad-request");
        }
        var sid = body.GetAttribute("sid");
        if (sid is null) return await sessions.CreateAsync(body, rid, http).ConfigureAwait(false);
        // §17.1, §17.2 item-not-found: an unknown sid, with the HTTP status that said so before terminal conditions.
        if (!sessions.TryGet(sid, out var session)) return BoshReply.UnknownSession;
        return await session.HandleAsync(body, rid).ConfigureAwait(false);
    }

    /// <summary>
    /// Parses a request body: one &lt;body xmlns='http://jabber.org/protocol/httpbind'/&gt;, optionally after a byte
    /// order mark and an XML declaration, whose only content is elements (§6). Null, with the reason, when it is not.
    /// </summary>
    internal static Element? TryParse(ReadOnlySequence<byte> bytes, int maxDepth, out string? problem)
    {
        problem = null;
        byte[]? rented = null;
        Element body;
        try
        {
            ReadOnlySpan<byte> s;
            if (bytes.IsSingleSegment)
            {
                s = bytes.FirstSpan;
            }
            else
            {
                rented = ArrayPool<byte>.Shared.Rent((int)bytes.Length);
                bytes.CopyTo(rented);
                s = rented.AsSpan(0, (int)bytes.Length);
            }
            if (s.StartsWith("\uFEFF"u8)) s = s[3..];
            s = s.Trim(" \t\r\n"u8);
            if (s.StartsWith("<?xml"u8))
            {
                var end = s.IndexOf("?>"u8);
                if (end < 0)
                {
                    problem = "Malformed XML declaration";
                    return null;
                }
                XmlElementParser.ParseDeclaration(s[..(end + 2)]);
                s = s[(end + 2)..].TrimStart(" \t\r\n"u8);
            }
            // The stream's parser: XML 1.0 and namespaces well-formed, restricted as RFC 6120 §11 restricts a stream.
            body = new XmlElementParser(new XmlFramerOptions().MaxAttributes, maxDepth).ParseElement(s);
        }
        catch (XmlStreamException e)
        {
            problem = e.Error.Text ?? e.Error.ConditionName;
            return null;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
        if (body.Namespace != Ns.HttpBind || body.LocalName != "body")
        {
            problem = "The root must be <body xmlns='" + Ns.HttpBind + "'/> (XEP-0124 §6)";
            return null;
        }
        foreach (var node in body.Nodes)
        {
            if (node is string text && !string.IsNullOrWhiteSpace(text))
            {
                problem = "The <body/> wrapper holds elements only, no character data (XEP-0124 §6)";
                return null;
            }
        }
        return body;
    }

    private static bool TryRid(Element body, out long rid) =>
        long.TryParse(body.GetAttribute("rid"), NumberStyles.None, CultureInfo.InvariantCulture, out rid) && rid is > 0 and <= MaxRid;
}
