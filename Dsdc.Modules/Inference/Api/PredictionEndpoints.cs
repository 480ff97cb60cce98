using System.Security.Claims;
using Dsdc.Auth;
using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference.Api;

internal static class PredictionEndpoints
{
    public const string FileField = "file";

    /// <summary>Retry-After of the 409 <c>being-deleted</c>: the default pipeline cron's interval, after which an ingestion run
    /// has tried the deletion again.</summary>
    public const int BeingDeletedRetryAfterSeconds = 180;

    /// <summary>Classifies one uploaded document with the champion model, records the prediction and keeps the document.</summary>
    public static async Task<Results<Ok<PredictionResponse>, ProblemHttpResult>> Predict(
        HttpRequest request, ClaimsPrincipal user, PredictionService predictions, PredictionGate gate, UploadBudget budget,
        IOptions<PredictionApiOptions> options, CancellationToken ct)
    {
        var o = options.Value;
        if (!request.HasFormContentType)
            return Problem(StatusCodes.Status400BadRequest, "No document", $"Send the document as multipart/form-data in a field named '{FileField}'.");
        var (form, problem) = await ReadUploadFormAsync(request, UploadLimits.RequestBytes(o), () => TooLarge(o), budget, o, ct);
        if (problem is not null) return problem;
        if (form!.Files.GetFile(FileField) is not { } file)
            return Problem(StatusCodes.Status400BadRequest, "No document", $"The multipart field '{FileField}' is missing.");
        if (file.Length > o.MaxUploadBytes)
            return TooLarge(o);
        // What the file is comes first: an empty or unsupported upload is told so even when no model is served.
        if (await UploadLimits.SniffAsync(file, ct) is { } refusal)
            return refusal == "empty-file"
                ? Problem(StatusCodes.Status422UnprocessableEntity, "Unreadable document", "The file is empty.", refusal)
                : Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported document type",
                    "The file is not a TIFF, PNG, JPEG, BMP or PDF document.");
        if (!await predictions.HasModelAsync(ct))
            return NoModel(request.HttpContext, predictions.NoModelReason);
        // The upload is read and checked: only now does the request wait for a slot (PredictionGate).
        using var slot = await gate.EnterAsync(ct);
        if (!slot.IsAcquired)
            return Busy(request.HttpContext, o);

        try
        {
            var (result, documentId, predictionId, neighbours) =
                await predictions.ClassifyAsync(file.CopyToAsync, file.FileName, user.GetUserName() ?? "anonymous", ct);
            return TypedResults.Ok(new PredictionResponse(result.Label, result.ClassName, result.Probabilities, result.Confidence,
                result.TopProbability, result.ModelId, documentId, predictionId, neighbours, result.TimingsMs, result.NeedsReview, result.ZeroShot,
                result.KnownClasses.Select(DocumentClasses.NameOf).ToList()));
        }
        catch (InvalidDocumentException ex)
        {
            return ex.ReasonCode switch
            {
                "unsupported-format" => Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported document type",
                    ex.Message + " Send a TIFF, PNG, JPEG, BMP or PDF file."),
                // The pipeline's own limit (Imaging:MaxFileBytes), which its message names, below the API's.
                "too-large" => Problem(StatusCodes.Status413PayloadTooLarge, "Document too large", ex.Message, ex.ReasonCode),
                _ => Problem(StatusCodes.Status422UnprocessableEntity, "Unreadable document", ex.Message, ex.ReasonCode),
            };
        }
        catch (NoModelException ex)
        {
            return NoModel(request.HttpContext, ex.Message);
        }
        catch (DocumentBeingDeletedException ex)
        {
            // The same bytes as a document whose deletion cannot finish now: nothing of the upload is kept. The next
            // ingestion run tries the deletion again (every 3 minutes by default, Pipeline:Cron).
            request.HttpContext.Response.Headers.RetryAfter = BeingDeletedRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problem(StatusCodes.Status409Conflict, "Document being deleted", ex.Message, "being-deleted");
        }
        catch (Exception ex) when (ex is ImageProcessing.PdfRendererSetupException or Ocr.OcrSetupException)
        {
            // The machine cannot read such documents now (mutool or Tesseract missing, mutool killed from outside): not
            // the document's fault, and the same request succeeds once the setup is fixed. The cause names the server's
            // paths: it goes to the log, and the client reads which setting to look at.
            request.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Dsdc.Inference.Api.Predict")
                .LogError(ex, "A document could not be read for want of its reader");
            return Problem(StatusCodes.Status503ServiceUnavailable, "Document reader unavailable", UploadLimits.ReaderUnavailableMessage(ex), "reader-unavailable");
        }
    }

    /// <summary>
    /// <c>POST /api/v1/documents/{id}/label</c>: a person's label. With <c>If-Match</c> (the label's ETag, or <c>*</c>) or
    /// <c>If-None-Match: *</c> it is written only while the document's label is still the one read, or still none: 412
    /// otherwise, naming the label it has now (<see cref="LabelVersions"/>).
    /// </summary>
    public static async Task<Results<Created<LabelResponse>, ProblemHttpResult, ValidationProblem>> Label(
        string id, LabelRequest body, HttpContext http, ClaimsPrincipal user, PredictionStore store, CancellationToken ct)
    {
        var label = body.Label!.Value; // [Required, Range(0, 15)], enforced by the framework's validation
        if (!PageImages.IsDocumentId(id) || !await store.DocumentExistsAsync(id, ct)) return UnknownDocument(id);
        if (!LabelVersions.TryReadPrecondition(http.Request, out var precondition, out var malformed))
            return Problem(StatusCodes.Status400BadRequest, "Malformed precondition", malformed!);
        // Without a precondition the label is written whatever the document has (an explicit correction).
        var (known, row, current) = await store.AddHumanLabelIfAsync(id, label, user.GetUserName() ?? "anonymous",
            precondition is null ? _ => true : precondition.HoldsFor, ct);
        if (!known) return UnknownDocument(id); // removed since the check above
        if (row is null) return LabelChanged(http, id, current);
        var response = LabelResponse.Of(id, new LabelEntry(row.Id, row.Label, row.Source, row.CreatedBy, row.CreatedAt));
        http.Response.Headers.ETag = response.Etag;
        return TypedResults.Created($"/api/v1/documents/{id}/label", response);
    }

    /// <summary>412: the label is not the one the request's precondition expected; the answer names it (and its ETag).</summary>
    internal static ProblemHttpResult LabelChanged(HttpContext http, string id, LabelEntry? current, bool write = true)
    {
        if (current is not null) http.Response.Headers.ETag = LabelVersions.ETag(current);
        return TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "Label changed",
            detail: LabelPrecondition.Refusal(id, current, write), extensions: new Dictionary<string, object?>
            {
                ["currentLabel"] = current is null ? null : LabelResponse.Of(id, current),
            });
    }

    internal static ProblemHttpResult UnknownDocument(string id) =>
        Problem(StatusCodes.Status404NotFound, "Unknown document", $"No stored document has the id '{id}'.");

    public static async Task<Results<Ok<IReadOnlyList<SimilarDocument>>, ProblemHttpResult>> Similar(
        string id, int? k, SimilarDocumentSearch similar, CancellationToken ct)
    {
        if (!PageImages.IsDocumentId(id))
            return Problem(StatusCodes.Status404NotFound, "No embedding", "No stored document has this id.");
        var found = await similar.FindSimilarToAsync(id, Math.Clamp(k ?? 5, 1, SimilarDocumentSearch.MaxK), includeSelf: false, ct);
        return found is null
            ? Problem(StatusCodes.Status404NotFound, "No embedding", $"Document '{id}' is unknown or not embedded yet.")
            : TypedResults.Ok(found);
    }

    /// <summary><c>GET /api/v1/status</c>: what serves; as the server starts, once the champion's first load has ended
    /// (it starts no load of its own: anyone may ask).</summary>
    public static async Task<Ok<StatusResponse>> Status(IDocumentClassifier classifier, ModelHost host, IDocumentEncoder encoder,
        CancellationToken ct)
    {
        await host.WhenFirstLoadedAsync(ct);
        return TypedResults.Ok(ServingStatus.Describe(classifier, encoder));
    }

    private static ProblemHttpResult TooLarge(PredictionApiOptions o) => Problem(StatusCodes.Status413PayloadTooLarge, "Document too large",
        UploadLimits.TooLargeMessage(o));

    /// <summary>
    /// Reads the multipart form of an upload: a content type without a boundary, or a body that cannot be parsed (truncated,
    /// a part whose headers never end, bytes that are not multipart at all: the client's fault), answers 400
    /// <c>malformed-multipart</c>; a body declared or found larger than <paramref name="limit"/>, <paramref name="tooLarge"/>;
    /// one that does not fit in what the uploads under way leave of <c>Api:MaxUploadBytesInFlight</c>, 503 before it is read.
    /// </summary>
    internal static async Task<(IFormCollection? Form, ProblemHttpResult? Problem)> ReadUploadFormAsync(
        HttpRequest request, long limit, Func<ProblemHttpResult> tooLarge, UploadBudget budget, PredictionApiOptions o, CancellationToken ct)
    {
        if (UploadLimits.MissingBoundary(request))
            return (null, Malformed("The multipart/form-data content type has no boundary parameter."));
        if (request.ContentLength > limit)
            return (null, tooLarge());
        if (!budget.TryReserve(request, limit))
            return (null, UploadsBusy(request.HttpContext, o));
        try
        {
            return (await request.ReadFormAsync(ct), null);
        }
        catch (Exception ex) when (UploadLimits.IsTooLarge(ex))
        {
            return (null, tooLarge());
        }
        catch (Exception ex) when (UploadLimits.IsMalformed(ex) && !ct.IsCancellationRequested)
        {
            return (null, Malformed(ex.Message));
        }
    }

    private static ProblemHttpResult Malformed(string detail) =>
        Problem(StatusCodes.Status400BadRequest, "Malformed multipart body", detail, "malformed-multipart");

    /// <summary>503 with Retry-After: as many classifications run and wait as <c>Api:MaxConcurrentPredictions</c> and
    /// <c>Api:QueueLimit</c> allow.</summary>
    private static ProblemHttpResult Busy(HttpContext http, PredictionApiOptions o) =>
        Busy(http, o, UploadLimits.BusyMessage(o.RetryAfterSeconds));

    /// <summary>503 with Retry-After: the uploads under way hold <c>Api:MaxUploadBytesInFlight</c>.</summary>
    internal static ProblemHttpResult UploadsBusy(HttpContext http, PredictionApiOptions o) =>
        Busy(http, o, UploadLimits.UploadsBusyMessage(o.RetryAfterSeconds), "uploads-busy");

    private static ProblemHttpResult Busy(HttpContext http, PredictionApiOptions o, string detail, string? reason = null)
    {
        http.Response.Headers.RetryAfter = o.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problem(StatusCodes.Status503ServiceUnavailable, "Busy", detail, reason);
    }

    private static ProblemHttpResult NoModel(HttpContext http, string detail)
    {
        http.Response.Headers.RetryAfter = UploadLimits.NoModelRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problem(StatusCodes.Status503ServiceUnavailable, "No model", detail);
    }

    internal static ProblemHttpResult Problem(int status, string title, string detail, string? code = null) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail,
            extensions: code is null ? null : new Dictionary<string, object?> { ["reason"] = code });
}
