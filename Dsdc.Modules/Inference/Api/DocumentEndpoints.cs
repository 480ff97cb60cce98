using System.Globalization;
using System.Security.Claims;
using Dsdc.Auth;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using static Dsdc.Inference.Api.PredictionEndpoints;

namespace Dsdc.Inference.Api;

/// <summary>Batch upload of documents (<c>POST /api/v1/documents</c>), the progress of a batch, and a stored document's state.</summary>
internal static class DocumentEndpoints
{
    public static async Task<Results<Ok<UploadResponse>, ProblemHttpResult, ValidationProblem>> Upload(
        HttpRequest request, ClaimsPrincipal user, DocumentUploads uploads, UploadBudget budget, IOptions<PredictionApiOptions> options,
        CancellationToken ct)
    {
        var o = options.Value;
        if (!request.HasFormContentType)
            return Problem(StatusCodes.Status400BadRequest, "No documents", $"Send the documents as multipart/form-data in fields named '{DocumentUploads.FilesField}'.");
        // Kestrel's body limit and the form reader's are one file's; a batch may carry more.
        UploadLimits.AllowBatchBody(request.HttpContext, o);
        var (form, problem) = await ReadUploadFormAsync(request, UploadLimits.BatchRequestBytes(o), () => BatchTooLarge(o), budget, o, ct);
        if (problem is not null) return problem;

        int? label = null;
        if (form!.TryGetValue(DocumentUploads.LabelField, out var labelText) && labelText.ToString() is { Length: > 0 } text)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || !DocumentClasses.IsValid(value))
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                    { [DocumentUploads.LabelField] = ["The label must be a class index from 0 to 15."] });
            label = value;
        }
        var files = form.Files.GetFiles(DocumentUploads.FilesField);
        if (files.Count == 0)
            return Problem(StatusCodes.Status400BadRequest, "No documents",
                $"The multipart body has no file in a field named '{DocumentUploads.FilesField}'.");
        // The files an operating system writes beside documents are left out (DocumentUploads), so they do not count.
        var count = DocumentUploads.CountDocuments(files);
        if (count == 0)
            return Problem(StatusCodes.Status400BadRequest, "No documents", DocumentUploads.OnlyOperatingSystemFilesMessage(files));
        if (count > o.MaxBatchFiles)
            return Problem(StatusCodes.Status400BadRequest, "Too many files",
                $"{count} files were sent; at most {o.MaxBatchFiles} go in one request (Api:MaxBatchFiles).");
        if (files.FirstOrDefault(f => f.Length > o.MaxUploadBytes) is { } big)
            return Problem(StatusCodes.Status413PayloadTooLarge, "Document too large", $"'{big.FileName}': " + UploadLimits.TooLargeMessage(o));

        return TypedResults.Ok(await uploads.IngestAsync(files, label, user.GetUserName() ?? "anonymous", ct));
    }

    public static async Task<Results<Ok<BatchStatus>, ProblemHttpResult>> Batch(string batch, DocumentUploads uploads, CancellationToken ct) =>
        await uploads.StatusAsync(batch, ct) is { } status
            ? TypedResults.Ok(status)
            : Problem(StatusCodes.Status404NotFound, "Unknown batch", $"No upload batch has the id '{batch}'.");

    public const int MaxPageSize = 100;

    /// <summary>The deepest document a page may start at (the web page's 100,000 pages of 25), whatever the page size.</summary>
    public const int MaxOffset = 2_500_000;

    /// <summary>The longest search kept (a file name or a class name is far shorter).</summary>
    public const int MaxQueryLength = 200;

    /// <summary><c>GET /api/v1/documents?q=&amp;page=1&amp;pageSize=25</c> (or <c>&amp;after=</c> a page's <c>next</c>): the
    /// stored documents, newest first, as the <c>/documents</c> page lists them: <paramref name="q"/> an id prefix, part of a
    /// file name or a class name.</summary>
    public static async Task<Results<Ok<DocumentsPage>, ProblemHttpResult>> List(string? q, int? page, int? pageSize, string? after,
        DocumentSearch search, CancellationToken ct)
    {
        var size = Math.Clamp(pageSize ?? 25, 1, MaxPageSize);
        ListPosition? position = null;
        if (after is not null)
        {
            if (page is not null)
                return Problem(StatusCodes.Status400BadRequest, "Two ways to page",
                    "Ask for a page either by its number ('page') or by the 'next' value of the page before it ('after'), not both.");
            if (!ListCursor.TryRead(after, out position))
                return Problem(StatusCodes.Status400BadRequest, "Malformed cursor",
                    "'after' takes the 'next' value of a page of this list, unchanged.");
        }
        var number = Math.Clamp(page ?? 1, 1, MaxOffset / size);
        var (items, more) = await search.SearchAsync(q is { Length: > MaxQueryLength } ? q[..MaxQueryLength] : q, number, size, ct, position);
        var next = more ? ListCursor.Write(new ListPosition(items[^1].IngestedAt, items[^1].Id)) : null;
        return TypedResults.Ok(new DocumentsPage(position is null ? number : null, size, more, items.Select(DocumentsPageEntry.Of).ToList(), next));
    }

    /// <summary><c>GET /api/v1/documents/{id}</c>: a stored document, its pipeline stages, current label and newest
    /// prediction, for clients that uploaded it in a batch or follow it afterwards.</summary>
    public static async Task<Results<Ok<DocumentResponse>, ProblemHttpResult>> Get(string id, IngestionQueries ingestion,
        DocumentProgress progress, PredictionStore predictions, CancellationToken ct)
    {
        if (!PageImages.IsDocumentId(id) || await ingestion.DocumentAsync(id, ct) is not { } file) return UnknownDocument(id);
        var stages = (await progress.StagesAsync([id], ct)).SingleOrDefault();
        var label = await ingestion.CurrentLabelAsync(id, ct);
        var prediction = await predictions.LatestForDocumentAsync(id, ct);
        return TypedResults.Ok(new DocumentResponse(file.Id, file.OriginalName, file.MediaType, file.FileSize, file.PageCount, file.Width,
            file.Height, file.IngestedAt, stages, label is null ? null : LabelResponse.Of(id, label),
            prediction is null ? null : DocumentPrediction.Of(prediction)));
    }

    /// <summary>Seconds a client waits before asking again to delete a document the pipeline or the store is working on.</summary>
    public const int DeleteRetryAfterSeconds = 30;

    /// <summary><c>DELETE /api/v1/documents/{id}</c> (role <c>model-admin</c>): the document, its files and everything derived
    /// from it (<see cref="DocumentDeletion"/>). 204 once gone; 404 unknown (or deleted before); 409 with Retry-After while
    /// it is being stored or a pipeline stage works on it; 202 when it is hidden for good but some of its files could not be
    /// removed now (the next ingestion run finishes).</summary>
    public static async Task<Results<NoContent, Accepted<DeletionPending>, ProblemHttpResult>> Delete(string id, HttpContext http, ClaimsPrincipal user,
        DocumentDeletion deletion, CancellationToken ct)
    {
        var outcome = await deletion.DeleteAsync(id, user.GetUserName() ?? "anonymous", ct);
        if (outcome is DeletionOutcome.BeingStored or DeletionOutcome.InUse)
            http.Response.Headers.RetryAfter = DeleteRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return outcome switch
        {
            DeletionOutcome.Deleted => TypedResults.NoContent(),
            DeletionOutcome.Hidden => TypedResults.Accepted((string?)null, new DeletionPending(id, "deleting",
                "The document is deleted for every reader, but some of its files could not be removed now (the server's log says why); " +
                "the next ingestion run removes them, then its records.")),
            DeletionOutcome.BeingStored => Problem(StatusCodes.Status409Conflict, "Document being stored",
                $"Document '{id}' is being stored right now; it can be deleted once it is, in a moment.", "being-stored"),
            DeletionOutcome.InUse => Problem(StatusCodes.Status409Conflict, "Document being processed",
                $"The pipeline is working on document '{id}' right now (its page or its OCR); it can be deleted once that step ends, " +
                "usually within a minute.", "in-use"),
            _ => UnknownDocument(id),
        };
    }

    /// <summary>The answer of a deletion that the next ingestion run finishes.</summary>
    public sealed record DeletionPending(string DocumentId, string Status, string Detail);

    /// <summary><c>GET /api/v1/documents/{id}/label</c>: the current label with its version in the <c>ETag</c> header; 404
    /// "No label" while the document has none (label it with <c>If-None-Match: *</c> to write only while that holds).
    /// Its preconditions are evaluated (RFC 9110, 13.2.1): 304 when <c>If-None-Match</c> names the current version, 412
    /// when <c>If-Match</c> does not.</summary>
    public static async Task<Results<Ok<LabelResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetLabel(string id, HttpContext http,
        IngestionQueries ingestion, PredictionStore predictions, CancellationToken ct)
    {
        if (!PageImages.IsDocumentId(id) || !await predictions.DocumentExistsAsync(id, ct)) return UnknownDocument(id);
        if (!LabelVersions.TryReadPrecondition(http.Request, out var precondition, out var malformed))
            return Problem(StatusCodes.Status400BadRequest, "Malformed precondition", malformed!);
        var current = await ingestion.CurrentLabelAsync(id, ct);
        if (precondition is { IfMatch: not null } && !(precondition with { IfNoneMatch = null }).HoldsFor(current))
            return LabelChanged(http, id, current, write: false);
        if (precondition is { IfNoneMatch: not null } && current is not null && !(precondition with { IfMatch = null }).HoldsFor(current))
        {
            http.Response.Headers.ETag = LabelVersions.ETag(current);
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        if (current is not { } label)
            return Problem(StatusCodes.Status404NotFound, "No label",
                $"Document '{id}' has no label yet. POST /api/v1/documents/{id}/label with the header 'If-None-Match: *' labels it "
                + "only while it still has none.");
        var response = LabelResponse.Of(id, label);
        http.Response.Headers.ETag = response.Etag;
        return TypedResults.Ok(response);
    }

    private static ProblemHttpResult BatchTooLarge(PredictionApiOptions o) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Upload too large", UploadLimits.BatchTooLargeMessage(o));
}
