using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Dsdc.Shared.Http;

/// <summary>
/// Endpoint metadata: the endpoint receives uploaded files (a multipart body up to the upload limits). <paramref name="Batch"/>:
/// many files, up to a batch's limit; <paramref name="Page"/>: a Razor page's form, answered with pages rather than
/// ProblemDetails.
/// </summary>
public sealed record UploadEndpoint(bool Batch = false, bool Page = false);

/// <summary>
/// Every other endpoint (log-in, tokens, labels, review decisions, the dashboard, a route that matches nothing) reads at
/// most <see cref="OtherBodyBytes"/> of a request's body: Kestrel's own limit is an upload's, and a form reader keeps any
/// file part over 64 KiB in a temporary file until the request ends, so an anonymous <c>POST /api/v1/token</c> or log-in
/// form could otherwise hold an upload's worth of the temporary folder, outside the uploads' budget.
/// </summary>
public static class RequestBodies
{
    /// <summary>The most any endpoint but an upload reads: its forms and JSON are a few kilobytes.</summary>
    public const long OtherBodyBytes = 1024 * 1024;

    /// <summary>After routing (the endpoint is known) and before anything reads a body.</summary>
    public static Task LimitAllButUploads(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<UploadEndpoint>() is null
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size
            && (size.MaxRequestBodySize is null || size.MaxRequestBodySize > OtherBodyBytes))
            size.MaxRequestBodySize = OtherBodyBytes;
        return next(context);
    }
}
