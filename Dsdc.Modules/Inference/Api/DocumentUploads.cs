using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Hangfire;
using Microsoft.AspNetCore.Http;

namespace Dsdc.Inference.Api;

/// <summary>What happened to one uploaded file.</summary>
/// <param name="Outcome"><c>accepted</c> (a new document: <paramref name="DocumentId"/>), <c>duplicate</c> (the bytes of known
/// document <paramref name="DuplicateOf"/>) or <c>rejected</c> (with <paramref name="ReasonCode"/> and <paramref name="Reason"/>);
/// <c>deferred</c> only for a file that changed while it was read, or, sent without a class, whose bytes were being stored
/// from another entry at that moment (reason <c>being-stored</c>); the next scheduled ingestion takes it.</param>
public sealed record UploadOutcome(string FileName, string Outcome, string? DocumentId, string? DuplicateOf, string? ReasonCode, string? Reason);

/// <summary>The answer of <c>POST /api/v1/documents</c>: one outcome per file, in the order sent, and how many of each
/// (<paramref name="Deferred"/>: files left for the next scheduled ingestion, which the batch's status does not list).</summary>
/// <param name="Ignored">the files sent that an operating system writes beside documents (<c>.DS_Store</c>, <c>._name</c>,
/// <c>Thumbs.db</c>, <c>desktop.ini</c>: a folder picked or dropped from a Mac or a Windows share holds them), by name:
/// left out, as the inbox leaves them out, instead of rejected as documents of no known type.</param>
public sealed record UploadResponse(string Batch, int? Label, string? ClassName, int Accepted, int Duplicates, int Rejected,
    IReadOnlyList<UploadOutcome> Files, string StatusUrl, int Deferred = 0, IReadOnlyList<string>? Ignored = null);

/// <summary>A file of a batch as recorded, with its progress through the pipeline once accepted.</summary>
public sealed record BatchFile(string FileName, string Outcome, string? DocumentId, string? DuplicateOf, string? ReasonCode, string? Reason,
    DocumentStages? Stages);

/// <param name="Processed">accepted documents through every stage.</param>
/// <param name="Failed">accepted documents that a stage could not process (yet: it tries again, up to Pipeline:MaxAttempts).</param>
public sealed record BatchStatus(string Batch, IReadOnlyList<BatchFile> Files, int Accepted, int Processed, int Failed = 0);

/// <summary>
/// Many documents in at once, for the API and the upload page: the files go through the inbox's ingestion
/// (<see cref="InboxIngestor.IngestUploadsAsync"/>: same validation, deduplication and rejection records), an optional class
/// becomes a human label of each accepted document (written with the document) and of each known document a duplicate
/// repeats when that one has no label yet, and a pipeline run is enqueued.
/// </summary>
public sealed class DocumentUploads(InboxIngestor ingestor, IngestionQueries ingestion, DocumentProgress progress, IBackgroundJobClient jobs)
{
    public const string FilesField = "files";
    public const string LabelField = "label";

    /// <summary>The file's name as sent, without the folders a browser puts before it.</summary>
    public static string NameOf(IFormFile file) => Path.GetFileName(TextInput.Name(file.FileName).Replace('\\', '/'));

    /// <summary>Whether the file is one an operating system writes beside documents (<see cref="FolderMetadata"/>), never a document.</summary>
    public static bool IsOperatingSystemFile(IFormFile file) => FolderMetadata.IsMetadata(NameOf(file));

    /// <summary>The files that count as documents (against <c>Api:MaxBatchFiles</c>): all but the operating system's own.</summary>
    public static int CountDocuments(IReadOnlyList<IFormFile> files) => files.Count(f => !IsOperatingSystemFile(f));

    /// <summary>What a request or form that holds only such files is told.</summary>
    public static string OnlyOperatingSystemFilesMessage(IReadOnlyList<IFormFile> files) =>
        $"The upload holds no document, only files an operating system writes beside documents ({string.Join(", ", files.Select(NameOf).Distinct().Take(3))}).";

    /// <param name="files">the files sent; those an operating system writes beside documents are left out
    /// (<see cref="UploadResponse.Ignored"/>).</param>
    public async Task<UploadResponse> IngestAsync(IReadOnlyList<IFormFile> files, int? label, string userName, CancellationToken ct)
    {
        var ignored = files.Where(IsOperatingSystemFile).Select(NameOf).ToList();
        files = files.Where(f => !IsOperatingSystemFile(f)).ToList();
        var batch = ingestor.NewBatchId();
        var outcomes = await ingestor.IngestUploadsAsync(batch, files.Select(f => new UploadedFile(f.FileName, f.CopyToAsync)).ToList(),
            label is { } l ? new IncomingLabel(l, userName) : null, ct);
        var results = new List<UploadOutcome>(outcomes.Count);
        for (var i = 0; i < outcomes.Count; i++)
        {
            var o = outcomes[i];
            var name = NameOf(files[i]);
            results.Add(o switch
            {
                { Kind: IngestionOutcomeKind.Accepted } => new UploadOutcome(name, "accepted", o.DocumentId, null, null, null),
                { ReasonCode: InboxIngestor.DuplicateReason } => new UploadOutcome(name, "duplicate", null, o.DocumentId, o.ReasonCode, o.Reason),
                // Only a file changed while it was read gets here: it stays in the inbox for the next scheduled run.
                { Kind: IngestionOutcomeKind.Deferred } => new UploadOutcome(name, "deferred", null, null, o.ReasonCode, o.Reason),
                _ => new UploadOutcome(name, "rejected", null, null, o.ReasonCode, o.Reason),
            });
        }
        if (results.Any(r => r.Outcome == "accepted"))
            jobs.Enqueue<PipelineJobs>(j => j.RunAsync(CancellationToken.None));
        return new UploadResponse(batch, label, label is { } c ? DocumentClasses.NameOf(c) : null,
            results.Count(r => r.Outcome == "accepted"), results.Count(r => r.Outcome == "duplicate"), results.Count(r => r.Outcome == "rejected"),
            results, $"/api/v1/documents/batches/{batch}", results.Count(r => r.Outcome == "deferred"), ignored);
    }

    /// <summary>The recorded outcome of every file of <paramref name="batch"/> and the pipeline stages of those accepted; null when unknown.</summary>
    public async Task<BatchStatus?> StatusAsync(string batch, CancellationToken ct)
    {
        var entries = await ingestion.BatchAsync(batch, ct);
        if (entries.Count == 0) return null;
        var accepted = entries.Where(e => e.Outcome == "accepted").Select(e => e.DocumentId!).ToList();
        var stages = (await progress.StagesAsync(accepted, ct)).ToDictionary(s => s.DocumentId);
        var files = entries.Select(e => e.Outcome == "accepted"
                ? new BatchFile(e.FileName ?? e.Folder, e.Outcome, e.DocumentId, null, null, null, stages.GetValueOrDefault(e.DocumentId!))
                : new BatchFile(e.FileName ?? e.Folder, e.Outcome, null, e.Outcome == "duplicate" ? e.DocumentId : null, e.ReasonCode, e.Reason, null))
            .ToList();
        return new BatchStatus(batch, files, accepted.Count, files.Count(f => f.Stages is { Done: true }),
            files.Count(f => f.Stages is { Done: false, FailedStage: not null }));
    }
}
