using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Hooks;
using Parley.Server.Storage;

namespace Parley.Server;

/// <summary>Account operations shared by the CLI, in-band registration and administration.</summary>
public sealed class Accounts(IStorage storage, HookBus hooks, IOptions<ParleyOptions> options, TimeProvider time)
{
    private static readonly ScramHash[] Hashes = [ScramHash.Sha1, ScramHash.Sha256, ScramHash.Sha512];

    /// <summary>Parses a user name or bare JID of this server's domain; false when invalid or foreign.</summary>
    public bool TryParseAccount(string text, out Jid account)
    {
        var domain = Jid.Create(null, options.Value.Domain).Domain;
        if (!text.Contains('@', StringComparison.Ordinal)) text = text + "@" + domain;
        return Jid.TryParse(text, out account) && account.IsBare && account.Local is not null && account.Domain == domain;
    }

    /// <summary>Creates an account; false when it exists.</summary>
    public async Task<bool> CreateAsync(Jid account, string password, CancellationToken ct)
    {
        var created = await storage.Accounts.CreateAsync(new Account(account, Derive(password), time.GetUtcNow()), ct).ConfigureAwait(false);
        if (created) await hooks.RunAsync(new AccountCreated(account), ct).ConfigureAwait(false);
        return created;
    }

    /// <summary>Replaces an account's credentials; false when it does not exist.</summary>
    public async Task<bool> SetPasswordAsync(Jid account, string password, CancellationToken ct)
    {
        var changed = await storage.Accounts.SetCredentialsAsync(account, Derive(password), ct).ConfigureAwait(false);
        // Whatever was granted with the old password (FAST tokens) goes with it.
        if (changed) await hooks.RunAsync(new PasswordChanged(account.Bare), ct).ConfigureAwait(false);
        return changed;
    }

    /// <summary>Deletes an account and, through the AccountDeleted hook, everything modules keep for it.</summary>
    public async Task<bool> DeleteAsync(Jid account, CancellationToken ct)
    {
        var deleted = await storage.Accounts.DeleteAsync(account, ct).ConfigureAwait(false);
        if (deleted) await hooks.RunAsync(new AccountDeleted(account), ct).ConfigureAwait(false);
        return deleted;
    }

    /// <summary>
    /// Whether a password is the account's: derived with the stored salt and iterations and compared with the
    /// stored SCRAM keys in constant time (the password itself is never stored). False for unknown accounts.
    /// </summary>
    public async Task<bool> VerifyPasswordAsync(Jid account, string password, CancellationToken ct)
    {
        var record = await storage.Accounts.GetAsync(account, ct).ConfigureAwait(false);
        return record is not null && Verify(record, password);
    }

    /// <summary>Checks a password against an account's stored SCRAM keys (SASL PLAIN, the web console).</summary>
    public static bool Verify(Account record, string password)
    {
        if (record.Credentials.Count == 0 || !IsValidPassword(password)) return false;
        var stored = record.Credentials[0];
        var derived = ScramCredential.Derive(stored.Hash, password, stored.Salt, stored.Iterations);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(derived.StoredKey, stored.StoredKey)
               && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(derived.ServerKey, stored.ServerKey);
    }

    /// <summary>How many accounts the domain has (counted by storage, not listed).</summary>
    public Task<int> CountAsync(CancellationToken ct) =>
        storage.Accounts.CountAsync(Jid.Create(null, options.Value.Domain).Domain, ct);

    /// <summary>Every account of the domain.</summary>
    public Task<IReadOnlyList<Jid>> ListAsync(CancellationToken ct) =>
        storage.Accounts.ListAsync(Jid.Create(null, options.Value.Domain).Domain, ct);

    /// <summary>Whether a password is acceptable: RFC 8265 §4.2 OpaqueString, 1..1023 bytes.</summary>
    public static bool IsValidPassword(string password) =>
        password.Length > 0 && System.Text.Encoding.UTF8.GetByteCount(password) <= 1023 && Precis.TryPrepareOpaqueString(password, out _);

    private List<ScramCredential> Derive(string password)
    {
        if (!IsValidPassword(password)) throw new ArgumentException("The password is empty or not a valid OpaqueString (RFC 8265 §4.2)", nameof(password));
        var list = new List<ScramCredential>(Hashes.Length);
        foreach (var hash in Hashes) list.Add(ScramCredential.Create(hash, password, options.Value.Auth.ScramIterations));
        return list;
    }
}
