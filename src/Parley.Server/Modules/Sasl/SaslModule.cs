using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Connections;
using Parley.Server.Diagnostics;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Sasl;

/// <summary>
/// RFC 6120 §6: SASL with SCRAM-SHA-1/256/512 and their -PLUS variants (RFC 5802, RFC 7677, channel binding per
/// RFC 5929), PLAIN only over TLS (RFC 4616), the XEP-0440 channel-binding list, and XEP-0474 downgrade
/// protection inside SCRAM. Failures are answered after a delay that grows with repeated failures.
/// </summary>
public sealed class SaslModule(IStorage storage, AuthThrottle throttle, IOptions<ParleyOptions> options, ILoggerFactory loggers, TimeProvider time, ParleyMetrics metrics) : IModule
{
    private readonly FastTokens _fast = new(storage, time);
    private static readonly QName Auth = new(Ns.Sasl, "auth");
    private static readonly QName Response = new(Ns.Sasl, "response");
    private static readonly QName Abort = new(Ns.Sasl, "abort");
    private static readonly QName Authenticate = new(Sasl2.Namespace, "authenticate");
    private static readonly QName Response2 = new(Sasl2.Namespace, "response");
    private static readonly QName Abort2 = new(Sasl2.Namespace, "abort");
    private static readonly object Sasl2Key = new();
    private static readonly object ExchangeKey = new();
    private static readonly object FailuresKey = new();
    private static readonly ScramHash[] Hashes = [ScramHash.Sha512, ScramHash.Sha256, ScramHash.Sha1];
    private readonly ILogger _log = loggers.CreateLogger("Parley.C2s");

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("sasl", Xeps: [440, 474, 388, 386], Required: true);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.StreamFeature(Stage.PreTls, stream => stream is XmppStream { PlaintextAllowed: true } ? MechanismsFeature(stream) : null);
        m.StreamFeature(Stage.PreAuth, MechanismsFeature);
        m.StreamFeature(Stage.PreAuth, ChannelBindingFeature);
        foreach (var stage in (Stage[])[Stage.PreTls, Stage.PreAuth])
        {
            m.OnStreamElement(Auth, stage, OnAuthAsync);
            m.OnStreamElement(Response, stage, OnResponseAsync);
            m.OnStreamElement(Abort, stage, OnAbortAsync);
        }
        // XEP-0388 SASL2 (only over TLS), with XEP-0386 Bind2 and XEP-0198 resumption inline.
        m.StreamFeature(Stage.PreAuth, Sasl2Feature);
        m.OnStreamElement(Authenticate, Stage.PreAuth, OnAuthenticateAsync);
        m.OnStreamElement(Response2, Stage.PreAuth, OnResponseAsync);
        m.OnStreamElement(Abort2, Stage.PreAuth, OnAbortAsync);
        m.Hook<Hooks.AccountDeleted>((e, ct) => new ValueTask(_fast.DeleteAllAsync(e.Account, ct)));
        m.Hook<Hooks.PasswordChanged>((e, ct) => new ValueTask(_fast.DeleteAllAsync(e.Account, ct)));
    }

    // XEP-0484 §3.1: the HT mechanisms this connection can do (the bound ones only where the binding exists).
    private static List<string> FastOffered(IStreamContext stream)
    {
        var list = new List<string>(3);
        foreach (var mechanism in FastTokens.Mechanisms)
        {
            var type = FastTokens.BindingType(mechanism)!;
            if (type.Length == 0 || (stream.ChannelBinding is { } cb && cb.Types.Contains(type))) list.Add(mechanism);
        }
        return list;
    }

    private Element? Sasl2Feature(IStreamContext stream)
    {
        if (!stream.IsSecure) return null;
        var feature = new Element("authentication", Sasl2.Namespace);
        foreach (var name in Offered(stream))
            feature.Add(new Element("mechanism", Sasl2.Namespace).AddText(name));
        feature.Add(new Element("inline", Sasl2.Namespace)
            .Add(new Element("bind", Sasl2.Bind2).Add(new Element("inline", Sasl2.Bind2)
                .Add(new Element("feature", Sasl2.Bind2).SetAttribute("var", Ns.StreamManagement))
                .Add(new Element("feature", Sasl2.Bind2).SetAttribute("var", Ns.Carbons))))
            .Add(new Element("sm", Ns.StreamManagement))
            .Add(FastFeature(stream)));
        return feature;
    }

    private static Element FastFeature(IStreamContext stream)
    {
        var fast = new Element("fast", FastTokens.Namespace);
        foreach (var mechanism in FastOffered(stream)) fast.Add(new Element("mechanism", FastTokens.Namespace).AddText(mechanism));
        return fast;
    }

    // XEP-0388 §2.3: <authenticate/> is <auth/> with the request for the final stream state attached.
    private ValueTask OnAuthenticateAsync(Element authenticate, IStreamContext stream, CancellationToken ct)
    {
        stream.Items[Sasl2Key] = authenticate;
        if (FastTokens.BindingType(authenticate.GetAttribute("mechanism") ?? "") is not null)
            return new ValueTask(FastAsync(authenticate, stream, ct));
        var auth = new Element("auth", Ns.Sasl).SetAttribute("mechanism", authenticate.GetAttribute("mechanism"));
        // No initial response is different from an empty one (§2.2): "=" stands for the empty one in RFC 6120 terms.
        var initial = authenticate.Child("initial-response", Sasl2.Namespace);
        if (initial is not null) auth.AddText(initial.Text.Trim().Length == 0 ? "=" : initial.Text);
        return OnAuthAsync(auth, stream, ct);
    }

    private static bool IsSasl2(IStreamContext stream) => stream.Items.ContainsKey(Sasl2Key);

    private static string SaslNs(IStreamContext stream) => IsSasl2(stream) ? Sasl2.Namespace : Ns.Sasl;

    /// <summary>The mechanisms this stream is offered, strongest first.</summary>
    internal List<string> Offered(IStreamContext stream)
    {
        var list = new List<string>(7);
        if (stream.IsSecure && stream.ChannelBinding is { Types.Count: > 0 })
            foreach (var h in Hashes) list.Add(SaslMechanisms.ScramName(h, plus: true));
        foreach (var h in Hashes) list.Add(SaslMechanisms.ScramName(h, plus: false));
        // RFC 6120 §13.9.4 / RFC 4616 §6: PLAIN only inside TLS.
        if (stream.IsSecure && options.Value.Auth.AllowPlain) list.Add(SaslMechanisms.Plain);
        return list;
    }

    private Element MechanismsFeature(IStreamContext stream)
    {
        var mechanisms = new Element("mechanisms", Ns.Sasl);
        foreach (var name in Offered(stream))
            mechanisms.Add(new Element("mechanism", Ns.Sasl).AddText(name));
        return mechanisms;
    }

    // XEP-0440 §2: the channel-binding types this connection supports.
    private static Element? ChannelBindingFeature(IStreamContext stream)
    {
        if (stream.ChannelBinding is not { Types.Count: > 0 } cb) return null;
        var list = new Element("sasl-channel-binding", Ns.SaslChannelBinding);
        foreach (var type in cb.Types)
            list.Add(new Element("channel-binding", Ns.SaslChannelBinding).SetAttribute("type", type));
        return list;
    }

    private async ValueTask OnAuthAsync(Element auth, IStreamContext stream, CancellationToken ct)
    {
        if (stream is XmppStream { IsSecure: false, PlaintextAllowed: false })
        {
            await FailAsync(stream, SaslFailure.EncryptionRequired, null, "none", ct).ConfigureAwait(false);
            return;
        }
        var mechanism = auth.GetAttribute("mechanism") ?? "";
        var offered = Offered(stream);
        if (!offered.Contains(mechanism))
        {
            await SendFailureAsync(stream, SaslFailure.InvalidMechanism, ct).ConfigureAwait(false);
            return;
        }
        if (!TryDecode(auth.Text, out var initial))
        {
            await SendFailureAsync(stream, SaslFailure.IncorrectEncoding, ct).ConfigureAwait(false);
            return;
        }
        if (mechanism == SaslMechanisms.Plain)
        {
            await PlainAsync(initial, stream, ct).ConfigureAwait(false);
            return;
        }
        if (!SaslMechanisms.TryParseScram(mechanism, out var hash, out var plus))
        {
            await SendFailureAsync(stream, SaslFailure.InvalidMechanism, ct).ConfigureAwait(false);
            return;
        }
        var scram = new ScramServer(hash, plus, stream.ChannelBinding, offered);
        if (initial.Length == 0)
        {
            // RFC 6120 §6.4.2: SCRAM is client-first; an empty initial response is a protocol error.
            await SendFailureAsync(stream, SaslFailure.MalformedRequest, ct).ConfigureAwait(false);
            return;
        }
        if (scram.ReadClientFirst(initial) is { } failure)
        {
            await FailAsync(stream, failure, scram.Username, mechanism, ct).ConfigureAwait(false);
            return;
        }
        ScramCredential? credential = null;
        Jid? account = null;
        if (TryAccount(scram.Username, out var jid))
        {
            account = jid;
            var record = await storage.Accounts.GetAsync(jid, ct).ConfigureAwait(false);
            if (record is not null)
                foreach (var c in record.Credentials)
                    if (c.Hash == hash) credential = c;
        }
        var serverFirst = scram.CreateServerFirst(credential);
        stream.Items[ExchangeKey] = new Exchange(scram, mechanism, credential is null ? null : account);
        await stream.SendAsync(new Element("challenge", SaslNs(stream)).AddText(Convert.ToBase64String(serverFirst)), ct).ConfigureAwait(false);
    }

    private async ValueTask OnResponseAsync(Element response, IStreamContext stream, CancellationToken ct)
    {
        if (!stream.Items.TryGetValue(ExchangeKey, out var state) || state is not Exchange exchange)
        {
            await SendFailureAsync(stream, SaslFailure.MalformedRequest, ct).ConfigureAwait(false);
            return;
        }
        stream.Items.Remove(ExchangeKey);
        if (!TryDecode(response.Text, out var clientFinal))
        {
            await SendFailureAsync(stream, SaslFailure.IncorrectEncoding, ct).ConfigureAwait(false);
            return;
        }
        var failure = exchange.Scram.ReadClientFinal(clientFinal, out var serverFinal);
        if (failure is null && exchange.Account is null) failure = SaslFailure.NotAuthorized;
        if (failure is null && !AuthzidAllowed(exchange.Scram.AuthorizationId, exchange.Account!.Value)) failure = SaslFailure.InvalidAuthzid;
        if (failure is not null)
        {
            await FailAsync(stream, failure.Value, exchange.Scram.Username, exchange.Mechanism, ct).ConfigureAwait(false);
            return;
        }
        await SucceedAsync(stream, exchange.Account!.Value, exchange.Mechanism, serverFinal, ct).ConfigureAwait(false);
    }

    private async ValueTask OnAbortAsync(Element abort, IStreamContext stream, CancellationToken ct)
    {
        stream.Items.Remove(ExchangeKey);
        await SendFailureAsync(stream, SaslFailure.Aborted, ct).ConfigureAwait(false);
        stream.Items.Remove(Sasl2Key);
    }

    private async ValueTask PlainAsync(byte[] message, IStreamContext stream, CancellationToken ct)
    {
        if (!SaslPlain.TryParse(message, out var authzid, out var authcid, out var password))
        {
            await SendFailureAsync(stream, SaslFailure.MalformedRequest, ct).ConfigureAwait(false);
            return;
        }
        var ok = false;
        Jid account = default;
        if (TryAccount(authcid, out account))
        {
            var record = await storage.Accounts.GetAsync(account, ct).ConfigureAwait(false);
            if (record is not null) ok = Accounts.Verify(record, password);
        }
        if (!ok)
        {
            await FailAsync(stream, SaslFailure.NotAuthorized, authcid, SaslMechanisms.Plain, ct).ConfigureAwait(false);
            return;
        }
        if (!AuthzidAllowed(authzid, account))
        {
            await FailAsync(stream, SaslFailure.InvalidAuthzid, authcid, SaslMechanisms.Plain, ct).ConfigureAwait(false);
            return;
        }
        await SucceedAsync(stream, account, SaslMechanisms.Plain, null, ct).ConfigureAwait(false);
    }

    private bool TryAccount(string? username, out Jid account)
    {
        account = default;
        return username is not null && Jid.TryCreate(username, options.Value.Domain, null, out account);
    }

    // RFC 6120 §6.3.8: an authorization identity, if given, must be the authenticated account itself.
    private static bool AuthzidAllowed(string? authzid, Jid account) =>
        string.IsNullOrEmpty(authzid) || (Jid.TryParse(authzid, out var requested) && requested == account);

    private async ValueTask SucceedAsync(IStreamContext stream, Jid account, string mechanism, byte[]? additional, CancellationToken ct)
    {
        throttle.Succeeded(stream.RemoteAddress, account.Local!);
        metrics.AuthSucceeded(mechanism);
        C2sLog.Authenticated(_log, stream.StreamId, account.ToString(), mechanism);
        if (stream.Items.TryGetValue(Sasl2Key, out var request) && request is Element authenticate)
        {
            stream.Items.Remove(Sasl2Key);
            var token = await RequestedTokenAsync(stream, account, authenticate, ct).ConfigureAwait(false);
            await Sasl2.SucceedAsync((XmppStream)stream, account, authenticate, additional, token, ct).ConfigureAwait(false);
            return;
        }
        var success = new Element("success", Ns.Sasl);
        if (additional is not null) success.AddText(Convert.ToBase64String(additional));
        await stream.SendAsync(success, ct).ConfigureAwait(false);
        stream.Authenticated(account);
    }

    private async ValueTask FailAsync(IStreamContext stream, SaslFailure failure, string? username, string mechanism, CancellationToken ct)
    {
        metrics.AuthFailed(mechanism);
        C2sLog.AuthenticationFailed(_log, stream.StreamId, username, mechanism, Name(failure));
        // Count failures per prepared localpart, so that case variants of one name share a counter.
        var delay = throttle.Failed(stream.RemoteAddress, TryAccount(username, out var account) ? account.Local : username);
        if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        await SendFailureAsync(stream, failure, ct).ConfigureAwait(false);
        var failures = stream.Items.TryGetValue(FailuresKey, out var n) && n is int count ? count + 1 : 1;
        stream.Items[FailuresKey] = failures;
        if (failures >= options.Value.Auth.MaxFailuresPerStream)
            await stream.CloseAsync(StreamError.PolicyViolation("Too many failed authentication attempts"), ct).ConfigureAwait(false);
    }

    // XEP-0388 §2.6.2: the SASL2 failure carries the RFC 6120 condition; inline requests are forgotten.
    private static ValueTask SendFailureAsync(IStreamContext stream, SaslFailure failure, CancellationToken ct)
    {
        var ns = SaslNs(stream);
        stream.Items.Remove(Sasl2Key);
        return stream.SendAsync(new Element("failure", ns).Add(new Element(Name(failure), Ns.Sasl)), ct);
    }

    // RFC 6120 §6.4.2: "=" is an empty response; anything else must be valid base64.
    private static bool TryDecode(string text, out byte[] bytes)
    {
        text = text.Trim();
        if (text.Length == 0 || text == "=")
        {
            bytes = [];
            return true;
        }
        bytes = new byte[text.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(text, bytes, out var written)) return false;
        bytes = bytes[..written];
        return true;
    }

    private static string Name(SaslFailure failure) => failure switch
    {
        SaslFailure.Aborted => "aborted",
        SaslFailure.AccountDisabled => "account-disabled",
        SaslFailure.CredentialsExpired => "credentials-expired",
        SaslFailure.EncryptionRequired => "encryption-required",
        SaslFailure.IncorrectEncoding => "incorrect-encoding",
        SaslFailure.InvalidAuthzid => "invalid-authzid",
        SaslFailure.InvalidMechanism => "invalid-mechanism",
        SaslFailure.MalformedRequest => "malformed-request",
        SaslFailure.MechanismTooWeak => "mechanism-too-weak",
        SaslFailure.TemporaryAuthFailure => "temporary-auth-failure",
        _ => "not-authorized",
    };

    private sealed record Exchange(ScramServer Scram, string Mechanism, Jid? Account);

    // XEP-0484 §3.2: a token for the installation named by the user agent id, for one of the offered mechanisms.
    private async Task<Element?> RequestedTokenAsync(IStreamContext stream, Jid account, Element authenticate, CancellationToken ct)
    {
        if (authenticate.Child("request-token", FastTokens.Namespace)?.GetAttribute("mechanism") is not { } mechanism) return null;
        if (!FastOffered(stream).Contains(mechanism) || ClientId(authenticate) is not { } client) return null;
        return await _fast.IssueAsync(account, client, mechanism, ct).ConfigureAwait(false);
    }

    private static string? ClientId(Element authenticate) =>
        authenticate.Child("user-agent", Sasl2.Namespace)?.GetAttribute("id") is { Length: > 0 and <= 64 } id ? id : null;

    // XEP-0484 §3.4: one round trip with an HT mechanism: authcid NUL HMAC(token, "Initiator" || binding data).
    private async Task FastAsync(Element authenticate, IStreamContext stream, CancellationToken ct)
    {
        var mechanism = authenticate.GetAttribute("mechanism")!;
        if (!FastOffered(stream).Contains(mechanism) || authenticate.Child("fast", FastTokens.Namespace) is not { } fast)
        {
            await SendFailureAsync(stream, SaslFailure.InvalidMechanism, ct).ConfigureAwait(false);
            return;
        }
        if (!TryDecode(authenticate.ChildText("initial-response", Sasl2.Namespace) ?? "", out var initial) || Array.IndexOf(initial, (byte)0) is var nul && nul <= 0)
        {
            await SendFailureAsync(stream, SaslFailure.MalformedRequest, ct).ConfigureAwait(false);
            return;
        }
        var username = System.Text.Encoding.UTF8.GetString(initial, 0, nul);
        var type = FastTokens.BindingType(mechanism)!;
        var binding = type.Length == 0 ? [] : stream.ChannelBinding?.GetBindingData(type) ?? [];
        if (ClientId(authenticate) is not { } client || !TryAccount(username, out var account))
        {
            await FailAsync(stream, SaslFailure.NotAuthorized, username, mechanism, ct).ConfigureAwait(false);
            return;
        }
        var invalidate = fast.GetAttribute("invalidate") is "true" or "1";
        var (ok, responder, rotate) = await _fast.VerifyAsync(account, client, mechanism, initial[(nul + 1)..], binding, invalidate, ct).ConfigureAwait(false);
        if (!ok)
        {
            await FailAsync(stream, SaslFailure.NotAuthorized, username, mechanism, ct).ConfigureAwait(false);
            return;
        }
        throttle.Succeeded(stream.RemoteAddress, account.Local!);
        metrics.AuthSucceeded(mechanism);
        C2sLog.Authenticated(_log, stream.StreamId, account.ToString(), mechanism);
        stream.Items.Remove(Sasl2Key);
        // §3.5 / §3.6: a new token when one is asked for, or when this one is due for rotation (never after an invalidation).
        var token = await RequestedTokenAsync(stream, account, authenticate, ct).ConfigureAwait(false);
        if (token is null && rotate && !invalidate) token = await _fast.IssueAsync(account, client, mechanism, ct).ConfigureAwait(false);
        await Sasl2.SucceedAsync((XmppStream)stream, account, authenticate, responder, token, ct).ConfigureAwait(false);
    }
}
