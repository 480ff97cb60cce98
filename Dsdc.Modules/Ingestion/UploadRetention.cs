using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Ingestion;

/// <summary>
/// Deletes the documents sent only to be classified (<c>POST /api/v1/predict</c>, the classify page) that nobody labelled
/// and whose bytes were last sent more than <see cref="IngestionOptions.KeepUnlabelledUploadsDays"/> days ago (off at 0,
/// the default), each as
/// <c>DELETE /api/v1/documents/{id}</c> does: its files and everything derived from it, recorded in
/// <c>ingestion.deletions</c> as deleted by <see cref="DeletedBy"/>. A labelled document stays (it may be trained on), and
/// so does one whose bytes also came by the inbox or a batch upload. Runs with the ingestion (the pipeline's runs,
/// <c>ingest</c>), at most once an hour per process unless it found a full batch; a document a stage holds right now is
/// left to the next sweep.
/// </summary>
public sealed partial class UploadRetention(DocumentStore store, DocumentDeletion deletion, IOptions<IngestionOptions> options,
    TimeProvider clock, ILogger<UploadRetention> logger)
{
    /// <summary>Most documents one sweep deletes.</summary>
    public const int Batch = 500;

    public static readonly TimeSpan Every = TimeSpan.FromHours(1);

    /// <summary>Who the deletions are recorded as made by.</summary>
    public const string DeletedBy = "retention (Ingestion:KeepUnlabelledUploadsDays)";

    private DateTimeOffset _next = DateTimeOffset.MinValue;
    private int _running;

    /// <summary>A sweep when one is due (and none runs in this process); returns how many documents it deleted. A sweep
    /// that fails is logged and tried again an hour later: it never stops the ingestion run it is part of.</summary>
    public async Task<int> SweepIfDueAsync(CancellationToken ct)
    {
        var days = options.Value.KeepUnlabelledUploadsDays;
        if (days == 0 || clock.GetUtcNow() < _next || Interlocked.Exchange(ref _running, 1) == 1) return 0;
        try
        {
            var (found, deleted) = await SweepAsync(days, ct);
            // A full batch that deleted something: more are waiting, the next run goes on at once.
            _next = found == Batch && deleted > 0 ? DateTimeOffset.MinValue : clock.GetUtcNow() + Every;
            return deleted;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _next = clock.GetUtcNow() + Every;
            LogSweepFailed(ex);
            return 0;
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Deletes up to <see cref="Batch"/> expired uploads; returns how many were found and how many deleted.</summary>
    internal async Task<(int Found, int Deleted)> SweepAsync(int days, CancellationToken ct)
    {
        var expired = await store.ExpiredUploadsAsync(days, Batch, ct);
        int deleted = 0, busy = 0;
        foreach (var id in expired)
        {
            ct.ThrowIfCancellationRequested();
            switch (await deletion.DeleteExpiredUploadAsync(id, DeletedBy, days, ct))
            {
                case DeletionOutcome.Deleted or DeletionOutcome.Hidden: deleted++; break; // hidden: its files go at the next run
                case DeletionOutcome.BeingStored or DeletionOutcome.InUse: busy++; break;
                // null: labelled, sent again or refused as a duplicate meanwhile, so kept; Unknown: deleted by someone else.
            }
        }
        if (deleted > 0 || busy > 0) LogSwept(deleted, days, busy);
        return (expired.Count, deleted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The retention sweep of documents sent to be classified failed (Ingestion:KeepUnlabelledUploadsDays); tried again in an hour")]
    private partial void LogSweepFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} document(s) sent to be classified more than {Days} days ago that nobody labelled (Ingestion:KeepUnlabelledUploadsDays); {Busy} in use, left to the next sweep")]
    private partial void LogSwept(int count, int days, int busy);
}
