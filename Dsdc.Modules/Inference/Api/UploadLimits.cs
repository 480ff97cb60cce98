using System.Globalization;
using Dsdc.ImageProcessing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Dsdc.Inference.Api;

/// <summary>
/// The one upload limit (<c>Api:MaxUploadBytes</c>, in appsettings.json) and how a request is judged against it: Kestrel's
/// request body limit, the multipart reader's limit, the API and the web UI all derive from it, and all say its real value.
/// </summary>
public static class UploadLimits
{
    /// <summary>What a client is told when the server cannot read a kind of document now: the setting to look at, not
    /// the server's paths (they are in its log).</summary>
    public static string ReaderUnavailableMessage(Exception ex) => ex is PdfRendererSetupException
        ? PdfRendererSetupException.ClientMessage
        : "Images cannot be read on this server now: Tesseract is not set up (see the server's log and the Ocr settings).";

    /// <summary>Room for the multipart boundaries and part headers around the file itself.</summary>
    public const long MultipartOverhead = 64 * 1024;

    /// <summary>Retry-After of the "no model" 503: a model appears by training, which takes minutes, not seconds.</summary>
    public const int NoModelRetryAfterSeconds = 60;

    /// <summary>What a classification refused by the concurrency limit (<c>Api:MaxConcurrentPredictions</c>, <c>Api:QueueLimit</c>) is told.</summary>
    public static string BusyMessage(int retryAfterSeconds) =>
        $"Too many documents are being classified right now; retry in {retryAfterSeconds} s.";

    /// <summary>What an upload refused by <see cref="UploadBudget"/> (<c>Api:MaxUploadBytesInFlight</c>) is told.</summary>
    public static string UploadsBusyMessage(int retryAfterSeconds) =>
        $"Too many uploads are being received right now; retry in {retryAfterSeconds} s.";

    /// <summary>The largest request body accepted: what Kestrel and the form reader are configured with.</summary>
    public static long RequestBytes(PredictionApiOptions o) => o.MaxUploadBytes + MultipartOverhead;

    /// <summary>The limit as people read it: "50 MiB" (with the exact bytes when that is not a whole number of MiB).</summary>
    public static string Describe(long bytes)
    {
        const long MiB = 1024 * 1024;
        return bytes % MiB == 0
            ? $"{bytes / MiB} MiB"
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)MiB:0.##} MiB ({bytes} bytes)");
    }

    /// <summary>The largest batch upload request (never below one file's limit).</summary>
    public static long BatchRequestBytes(PredictionApiOptions o) => Math.Max(o.MaxBatchUploadBytes, o.MaxUploadBytes) + MultipartOverhead;

    public static string BatchTooLargeMessage(PredictionApiOptions o) =>
        $"The upload is larger than {Describe(Math.Max(o.MaxBatchUploadBytes, o.MaxUploadBytes))} in all, the limit of this server for several files " +
        $"(Api:MaxBatchUploadBytes); each file may have up to {Describe(o.MaxUploadBytes)} (Api:MaxUploadBytes).";

    /// <summary>
    /// Raises this request's limits (Kestrel's body limit and the form reader's part limit are one file's) to the batch
    /// limit, before the body is read: a batch may carry more than one file's bytes, and a file over its own limit is
    /// then read to its end and refused by name (<c>'scan.tif': The upload is larger than 50 MiB...</c>), instead of
    /// the reader stopping inside it and the whole batch being called too large.
    /// </summary>
    public static void AllowBatchBody(HttpContext context, PredictionApiOptions o)
    {
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = BatchRequestBytes(o);
        if (!context.Request.HasFormContentType) return;
        var form = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<FormOptions>>().Value;
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, new FormOptions
        {
            BufferBody = form.BufferBody,
            MemoryBufferThreshold = form.MemoryBufferThreshold,
            BufferBodyLengthLimit = form.BufferBodyLengthLimit,
            ValueCountLimit = form.ValueCountLimit,
            KeyLengthLimit = form.KeyLengthLimit,
            ValueLengthLimit = form.ValueLengthLimit,
            MultipartBoundaryLengthLimit = form.MultipartBoundaryLengthLimit,
            MultipartHeadersCountLimit = form.MultipartHeadersCountLimit,
            MultipartHeadersLengthLimit = form.MultipartHeadersLengthLimit,
            MultipartBodyLengthLimit = BatchRequestBytes(o),
        }));
    }

    public static string TooLargeMessage(PredictionApiOptions o) =>
        $"The upload is larger than {Describe(o.MaxUploadBytes)}, the limit of this server (Api:MaxUploadBytes).";

    /// <summary>A multipart content type without a boundary cannot be read: a client error, not a size problem.</summary>
    public static bool MissingBoundary(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
        && HeaderUtilities.RemoveQuotes(type.Boundary).Length == 0;

    /// <summary>The body went past a size limit while being read (Kestrel's, or the multipart reader's).</summary>
    public static bool IsTooLarge(Exception ex) =>
        ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
        || (ex is InvalidDataException && ex.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body is not a readable multipart form: truncated, headers without end, garbage, a part limit broken.</summary>
    /// <remarks>Reading the form only parses what the client sent, so any failure other than a cancellation is the body's
    /// fault (the property test found a 62-byte body cut inside a part's headers that failed with another exception type).</remarks>
    public static bool IsMalformed(Exception ex) => ex is not OperationCanceledException;

    /// <summary>
    /// Looks at the first bytes only: null when they are those of a supported format, otherwise the reason code
    /// (<c>empty-file</c> or <c>unsupported-format</c>) that the full inspection would give.
    /// </summary>
    public static async Task<string?> SniffAsync(IFormFile file, CancellationToken ct)
    {
        if (file.Length == 0) return "empty-file";
        var head = new byte[(int)Math.Min(file.Length, 2048)];
        await using var stream = file.OpenReadStream();
        await stream.ReadExactlyAsync(head, ct);
        return DocumentFormats.Detect(head) is null ? "unsupported-format" : null;
    }
}
