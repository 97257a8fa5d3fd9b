using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Server.Modules.Upload;

/// <summary>
/// The HTTPS side of XEP-0363 (§5, §6): PUT of exactly the announced bytes and content type to a slot's URL with
/// its Authorization header (201 Created), then GET and HEAD of the file with its stored content type. Files are
/// served so that a browser never runs them (nosniff, a sandboxing Content-Security-Policy).
/// </summary>
public static class UploadEndpoints
{
    /// <summary>The URL of a slot's file.</summary>
    public static string Url(UploadStore store, string slot, string name) =>
        store.BaseUrl + "/upload/" + Uri.EscapeDataString(slot) + "/" + Uri.EscapeDataString(name);

    /// <summary>Maps the routes.</summary>
    public static void Map(WebApplication app)
    {
        app.MapPut("/upload/{slot}/{name}", PutAsync);
        app.MapGet("/upload/{slot}/{name}", GetAsync);
        app.MapMethods("/upload/{slot}/{name}", ["HEAD"], GetAsync);
    }

    private static async Task<IResult> PutAsync(string slot, string name, HttpContext http)
    {
        var store = http.RequestServices.GetRequiredService<UploadStore>();
        if (!store.TryGetSlot(slot, name, out var s)) return Results.StatusCode(StatusCodes.Status403Forbidden);
        if (http.Request.Headers.Authorization.ToString() != "Bearer " + s.Token) return Results.StatusCode(StatusCodes.Status403Forbidden);
        var length = http.Request.ContentLength;
        if (length > s.Size) return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        if (length != s.Size) return Results.BadRequest("Content-Length must be the size given in the slot request");
        // §5: the content type, when the slot request named one, must match.
        var type = http.Request.ContentType;
        if (type is not null && !string.Equals(type, s.ContentType, StringComparison.OrdinalIgnoreCase) && s.ContentType != "application/octet-stream")
            return Results.BadRequest("Content-Type must be the one given in the slot request");
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = s.Size;
        return await store.StoreAsync(s, http.Request.Body, http.RequestAborted).ConfigureAwait(false)
            ? Results.StatusCode(StatusCodes.Status201Created)
            : Results.BadRequest("The body was not the announced size");
    }

    private static async Task<IResult> GetAsync(string slot, string name, HttpContext http)
    {
        var store = http.RequestServices.GetRequiredService<UploadStore>();
        var file = await store.FindAsync(slot, http.RequestAborted).ConfigureAwait(false);
        if (file is null || file.Name != name) return Results.NotFound();
        var path = store.PathOf(file.Slot, file.Name);
        if (!File.Exists(path)) return Results.NotFound();
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        headers.CacheControl = "public, max-age=" + (store.Options.RetentionDays > 0 ? store.Options.RetentionDays * 86400 : 31536000).ToString(CultureInfo.InvariantCulture);
        return Results.File(path, file.ContentType, enableRangeProcessing: true);
    }
}
