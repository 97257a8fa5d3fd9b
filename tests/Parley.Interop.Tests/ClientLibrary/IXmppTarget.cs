using Parley.Client;

namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>A server the client library's suite runs against: Parley, or Debian's prosody.</summary>
public interface IXmppTarget
{
    /// <summary>The server's name in test output.</summary>
    string Name { get; }

    /// <summary>The XMPP domain.</summary>
    string Domain { get; }

    /// <summary>The multi-user chat service.</summary>
    string Conference { get; }

    /// <summary>Options for a pre-created account (see <see cref="Users"/>), STARTTLS or direct TLS.</summary>
    XmppClientOptions Options(string user, string? resource = null, bool directTls = false, string? password = null);

    /// <summary>The server's certificate as a PEM file (to trust it by name of file, as the hello bot does).</summary>
    string CertificateFile { get; }

    /// <summary>The STARTTLS client port on 127.0.0.1.</summary>
    int Port { get; }

    /// <summary>An HttpClient that trusts the server's upload certificate (if it uses HTTPS).</summary>
    HttpClient Http { get; }
}
