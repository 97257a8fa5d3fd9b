using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Server.Storage;

/// <summary>Accounts and their credentials.</summary>
public interface IAccountStore
{
    /// <summary>Creates an account; false when it exists.</summary>
    Task<bool> CreateAsync(Account account, CancellationToken ct);

    /// <summary>The account, or null.</summary>
    Task<Account?> GetAsync(Jid account, CancellationToken ct);

    /// <summary>Replaces the credentials; false when the account does not exist.</summary>
    Task<bool> SetCredentialsAsync(Jid account, IReadOnlyList<ScramCredential> credentials, CancellationToken ct);

    /// <summary>Deletes the account; false when it does not exist.</summary>
    Task<bool> DeleteAsync(Jid account, CancellationToken ct);

    /// <summary>The accounts of a domain, ordered by localpart.</summary>
    Task<IReadOnlyList<Jid>> ListAsync(string domain, CancellationToken ct);

    /// <summary>How many accounts a domain has.</summary>
    Task<int> CountAsync(string domain, CancellationToken ct);
}
