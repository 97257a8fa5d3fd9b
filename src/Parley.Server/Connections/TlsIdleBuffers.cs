using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Parley.Server.Connections;

/// <summary>
/// Lets OpenSSL free a connection's record buffers while it has nothing buffered (<c>SSL_MODE_RELEASE_BUFFERS</c>).
/// Without it every TLS connection keeps a read and a write buffer of about 17 KB each for its whole life, which is
/// most of what an idle XMPP session costs. .NET's <see cref="SslStream"/> exposes no switch for it, so on Linux this
/// finds the connection's <c>SSL*</c> (the stream's security context is a <c>SafeSslHandle</c> whose handle it is)
/// and calls <c>SSL_ctrl(ssl, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS)</c> in the libssl the runtime itself loaded.
/// Anything unexpected (another platform or TLS provider, a runtime whose fields differ, no libssl mapped) turns it
/// off for the process; the connection is then exactly as without it.
/// </summary>
public static class TlsIdleBuffers
{
    private const int SslCtrlMode = 33;              // SSL_CTRL_MODE (ssl.h)
    private const nint SslModeReleaseBuffers = 0x10; // SSL_MODE_RELEASE_BUFFERS (ssl.h)

    private static readonly FieldInfo? SecurityContext = Resolve();
    private static readonly SslCtrlFunction? SslCtrl = ResolveSslCtrl();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nint SslCtrlFunction(nint ssl, int command, nint larg, nint parg);

    /// <summary>Whether the switch can be applied in this process.</summary>
    public static bool Available => SecurityContext is not null && SslCtrl is not null;

    /// <summary>Asks OpenSSL to release <paramref name="ssl"/>'s buffers whenever they are empty; after the handshake.</summary>
    /// <returns>Whether the mode was set.</returns>
    public static bool Apply(SslStream ssl)
    {
        if (!Available || SecurityContext!.GetValue(ssl) is not SafeHandle context
            || context.GetType().Name != "SafeSslHandle" || context.IsInvalid || context.IsClosed)
            return false;
        var added = false;
        try
        {
            context.DangerousAddRef(ref added);
            var mode = SslCtrl!(context.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, 0);
            return (mode & SslModeReleaseBuffers) != 0;
        }
        finally
        {
            if (added) context.DangerousRelease();
        }
    }

    private static FieldInfo? Resolve()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var field = typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);
        return field is not null && typeof(SafeHandle).IsAssignableFrom(field.FieldType) ? field : null;
    }

    // The libssl the runtime's crypto shim loaded: the one mapped into this process, so that SSL_ctrl and the SSL*
    // come from the same library. Nothing is loaded that is not already there.
    private static SslCtrlFunction? ResolveSslCtrl()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            // The shim loads libssl when the first SslStream is made; by then the listeners have made one.
            string? mapped = null;
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash < 0) continue;
                var path = line.AsSpan(slash);
                var name = Path.GetFileName(path);
                if (!name.StartsWith("libssl.so", StringComparison.Ordinal)) continue;
                if (mapped is not null && !path.SequenceEqual(mapped)) return null; // two libssl: do not guess
                mapped ??= path.ToString();
            }
            if (mapped is null || !NativeLibrary.TryLoad(mapped, out var lib)) return null;
            return NativeLibrary.TryGetExport(lib, "SSL_ctrl", out var ctrl)
                ? Marshal.GetDelegateForFunctionPointer<SslCtrlFunction>(ctrl)
                : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
