using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Upload;

/// <summary>
/// XEP-0363's storage side: slots handed out over XMPP (each a random, unguessable path and a separate PUT token,
/// valid for Upload:SlotSeconds and for one upload of exactly the announced size and type), the files in
/// data/upload/&lt;slot&gt;/&lt;name&gt;, their metadata and each account's usage for the quota, and expiry.
/// </summary>
public sealed class UploadStore(IStorage storage, TimeProvider time, IOptions<ParleyOptions> options)
{
    private readonly UploadOptions _options = options.Value.Upload;
    private readonly string _root = Path.GetFullPath(Path.Combine(options.Value.DataDirectory, "upload"));
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly IMapStore _files = storage.Map("upload.files");
    private readonly IMapStore _index = storage.Map("upload.index");
    private readonly Jid _indexKey = Jid.Create(null, options.Value.Domain);

    /// <summary>A slot: who asked, for what, until when, and the token its PUT must carry.</summary>
    public sealed record Slot(string Id, Jid Account, string Name, long Size, string ContentType, DateTimeOffset Expires, string Token);

    /// <summary>What is stored about an uploaded file.</summary>
    public sealed record StoredFile(string Slot, Jid Account, string Name, long Size, string ContentType, DateTimeOffset Created);

    /// <summary>The base of the URLs handed out (Upload:PublicUrl, or the HTTPS listener's address once it runs).</summary>
    public string BaseUrl { get; internal set; } = (options.Value.Upload.PublicUrl ?? "").TrimEnd('/');

    /// <summary>The options in effect.</summary>
    public UploadOptions Options => _options;

    /// <summary>The directory holding the files.</summary>
    public string Root => _root;

    /// <summary>A name safe in a path and a URL: the last path segment, unusual characters replaced, at most 128 characters.</summary>
    public static string SafeName(string name)
    {
        var last = name.Replace('\\', '/');
        last = last[(last.LastIndexOf('/') + 1)..];
        var sb = new StringBuilder(Math.Min(last.Length, 128));
        foreach (var c in last)
        {
            if (sb.Length == 128) break;
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }
        var safe = sb.ToString().TrimStart('.');
        return safe.Length == 0 ? "file" : safe;
    }

    /// <summary>The bytes an account's stored files take.</summary>
    public async Task<long> UsageAsync(Jid account, CancellationToken ct)
    {
        long total = 0;
        foreach (var (_, file) in await _files.GetAllAsync(account.Bare, ct).ConfigureAwait(false))
            total += long.TryParse(file.GetAttribute("size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : 0;
        foreach (var slot in _slots.Values)
            if (slot.Account == account.Bare) total += slot.Size;      // slots not yet used count too
        return total;
    }

    /// <summary>Hands out a slot.</summary>
    public Slot CreateSlot(Jid account, string name, long size, string contentType)
    {
        var id = Token(16);
        var slot = new Slot(id, account.Bare, SafeName(name), size, contentType, time.GetUtcNow().AddSeconds(_options.SlotSeconds), Token(24));
        _slots[id] = slot;
        return slot;
    }

    /// <summary>The slot a PUT names, if it is still open.</summary>
    public bool TryGetSlot(string id, string name, out Slot slot)
    {
        if (_slots.TryGetValue(id, out slot!) && slot.Name == name && slot.Expires > time.GetUtcNow()) return true;
        slot = null!;
        return false;
    }

    /// <summary>Where a slot's file lives.</summary>
    public string PathOf(string slot, string name) => Path.Combine(_root, slot, name);

    /// <summary>
    /// Stores the body of a PUT: exactly <see cref="Slot.Size"/> bytes or nothing. Returns false (and keeps
    /// nothing) when the body is longer or shorter. The slot is used up either way.
    /// </summary>
    public async Task<bool> StoreAsync(Slot slot, Stream body, CancellationToken ct)
    {
        if (!_slots.TryRemove(new KeyValuePair<string, Slot>(slot.Id, slot))) return false;
        var directory = Path.Combine(_root, slot.Id);
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, ".partial");
        long written = 0;
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                var buffer = new byte[81920];
                int n;
                while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    written += n;
                    if (written > slot.Size) break;
                    await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                }
                await file.FlushAsync(ct).ConfigureAwait(false);
            }
            if (written != slot.Size)
            {
                Directory.Delete(directory, recursive: true);
                return false;
            }
            File.Move(temp, PathOf(slot.Id, slot.Name));
        }
        catch
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            throw;
        }
        var record = new Element("file", "urn:parley:upload")
            .SetAttribute("slot", slot.Id).SetAttribute("account", slot.Account.ToString()).SetAttribute("name", slot.Name)
            .SetAttribute("size", slot.Size.ToString(CultureInfo.InvariantCulture)).SetAttribute("type", slot.ContentType)
            .SetAttribute("created", time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        await _files.SetAsync(slot.Account, slot.Id, record, ct).ConfigureAwait(false);
        await _index.SetAsync(_indexKey, slot.Id, record, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>A stored file by its slot, if it exists.</summary>
    public async Task<StoredFile?> FindAsync(string slot, CancellationToken ct)
    {
        var record = await _index.GetAsync(_indexKey, slot, ct).ConfigureAwait(false);
        return record is null ? null : Parse(record);
    }

    /// <summary>Removes expired slots and files older than the retention period; returns how many files went.</summary>
    public async Task<int> CleanUpAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var slot in _slots.Values)
            if (slot.Expires <= now) _slots.TryRemove(new KeyValuePair<string, Slot>(slot.Id, slot));
        if (_options.RetentionDays <= 0) return 0;
        var cutoff = now.AddDays(-_options.RetentionDays);
        var removed = 0;
        foreach (var (_, record) in await _index.GetAllAsync(_indexKey, ct).ConfigureAwait(false))
        {
            if (Parse(record) is not { } file || file.Created >= cutoff) continue;
            await DeleteAsync(file, ct).ConfigureAwait(false);
            removed++;
        }
        return removed;
    }

    /// <summary>Deletes every file of an account (when the account is deleted).</summary>
    public async Task DeleteAccountAsync(Jid account, CancellationToken ct)
    {
        foreach (var (_, record) in await _files.GetAllAsync(account.Bare, ct).ConfigureAwait(false))
            if (Parse(record) is { } file) await DeleteAsync(file, ct).ConfigureAwait(false);
    }

    private async Task DeleteAsync(StoredFile file, CancellationToken ct)
    {
        var directory = Path.Combine(_root, file.Slot);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        await _files.SetAsync(file.Account, file.Slot, null, ct).ConfigureAwait(false);
        await _index.SetAsync(_indexKey, file.Slot, null, ct).ConfigureAwait(false);
    }

    private static StoredFile? Parse(Element record) =>
        Jid.TryParse(record.GetAttribute("account"), out var account)
        && long.TryParse(record.GetAttribute("size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size)
        && long.TryParse(record.GetAttribute("created"), NumberStyles.None, CultureInfo.InvariantCulture, out var created)
            ? new StoredFile(record.GetAttribute("slot")!, account, record.GetAttribute("name")!, size, record.GetAttribute("type") ?? "application/octet-stream", DateTimeOffset.FromUnixTimeSeconds(created))
            : null;

    private static string Token(int bytes) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
}
