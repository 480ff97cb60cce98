using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Dsdc.Ingestion;

/// <summary>Another module's part in deleting a document: whether its work is on the document now, and the files it keeps
/// of it.</summary>
public interface IDocumentDeletionParticipant
{
    /// <summary>Whether the document may go now; runs inside the transaction that hides it (the locks taken here last
    /// until it is hidden, after which no work of the module takes it up).</summary>
    Task<bool> MayDeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string documentId, CancellationToken ct);

    /// <summary>The files the module keeps of the document (full paths), removed before its rows.</summary>
    IEnumerable<string> FilesOf(string documentId);
}

/// <summary>What became of a deletion asked for.</summary>
public enum DeletionOutcome
{
    /// <summary>The document, its files and everything derived from it are gone.</summary>
    Deleted,
    /// <summary>The document is hidden for good, but some of its files could not be removed now (the log says why): the next
    /// ingestion run tries again, then removes its rows.</summary>
    Hidden,
    /// <summary>No stored document has this id.</summary>
    Unknown,
    /// <summary>It is being stored right now (its file is moving into the store): asked again in a moment, it goes.</summary>
    BeingStored,
    /// <summary>The pipeline works on it right now (its page, its OCR): asked again in a minute or so, it goes.</summary>
    InUse,
}

/// <summary>
/// Deletes a stored document (<c>DELETE /api/v1/documents/{id}</c>, the document's page): hidden first, in one transaction
/// that checks no stage works on it (it leaves every list, search, queue and training set at once, and no stage takes it up
/// again); then its files are removed (the original in raw/, the pages the pipeline made of it, the inbox entries refused
/// as its duplicates under rejected/) and made durable; then its rows go, with everything derived from it: labels, split
/// side, texts, pages, vectors, features, predictions, the refused copies' records. A deletion
/// a crash interrupts (the document hidden, some files left) is finished by the next ingestion run. The id stays taken
/// until the row is gone, so the same file arriving meanwhile waits (the inbox and batch uploads defer it; a prediction's
/// upload finishes the deletion first) and is then stored as a new document. What stays: the training sets' record of the
/// id (what a model was fitted on), and the models fitted on it until they are retrained.
/// </summary>
public sealed partial class DocumentDeletion(DocumentStore store, DsdcPaths paths, IEnumerable<IDocumentDeletionParticipant> participants,
    ILogger<DocumentDeletion> logger)
{
    public Task<DeletionOutcome> DeleteAsync(string documentId, string deletedBy, CancellationToken ct) =>
        DeleteAsync(documentId, deletedBy, "person", null, ct);

    /// <summary>As <see cref="DeleteAsync(string, string, CancellationToken)"/>, only while the document is still an upload
    /// nobody labelled whose bytes were last sent more than <paramref name="days"/> days ago
    /// (<see cref="DocumentStore.ExpiredUploadsAsync"/>): checked once its row is locked, which every label write waits for,
    /// and under its deletion lock, which an inbox duplicate's record and a new upload of its bytes are written under; so
    /// any of them meanwhile keeps it. Null when one did.</summary>
    internal async Task<DeletionOutcome?> DeleteExpiredUploadAsync(string documentId, string deletedBy, int days, CancellationToken ct)
    {
        var kept = false;
        var outcome = await DeleteAsync(documentId, deletedBy, "retention", async (connection, transaction, token) =>
            !(kept = !await DocumentStore.IsExpiredUploadAsync(connection, transaction, documentId, days, token)), ct);
        return kept ? null : outcome;
    }

    /// <param name="by">Who asked, as <c>dsdc_documents_deleted_total</c> counts it: <c>person</c> or <c>retention</c>.</param>
    private async Task<DeletionOutcome> DeleteAsync(string documentId, string deletedBy, string by,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<bool>>? onlyIf, CancellationToken ct)
    {
        if (!DocumentIds.IsValid(documentId)) return DeletionOutcome.Unknown;
        await using var held = await store.LockDeletionAsync(documentId, ct);
        var (start, filePath) = await store.StartDeletionAsync(documentId, deletedBy,
            async (connection, transaction, token) => (onlyIf is null || await onlyIf(connection, transaction, token))
                && await MayDeleteAsync(connection, transaction, documentId, token), ct);
        switch (start)
        {
            case DocumentStore.DeletionStart.Unknown: return DeletionOutcome.Unknown;
            case DocumentStore.DeletionStart.BeingStored: return DeletionOutcome.BeingStored;
            case DocumentStore.DeletionStart.InUse: return DeletionOutcome.InUse;
        }
        IngestionMetrics.Deletions.WithLabels(by).Inc();
        try
        {
            // Hidden now: the rest goes on even when the request that asked for it ends.
            await RemoveAsync(documentId, filePath!, CancellationToken.None);
        }
        catch (Exception ex) when (CannotRemove(ex))
        {
            // Hidden already, and so for good: the next ingestion run tries its files again.
            LogNotFinished(ex, documentId);
            return DeletionOutcome.Hidden;
        }
        LogDeleted(documentId, deletedBy);
        return DeletionOutcome.Deleted;
    }

    /// <summary>Finishes the deletions a crash (or a failed file removal) left half done; one under way in another process
    /// is left to it. Returns how many were finished.</summary>
    public async Task<int> FinishInterruptedAsync(CancellationToken ct)
    {
        var finished = 0;
        foreach (var (id, filePath) in await store.ListDeletingAsync(ct))
        {
            await using var held = await store.TryLockDeletionAsync(id, ct);
            if (held is null) continue;
            // Finished by its own deleter between the list and the lock: nothing is left to do.
            if (await store.FindAsync(id, ct) is not { IngestState: "deleting" }) continue;
            try
            {
                await RemoveAsync(id, filePath, ct);
                finished++;
                LogFinished(id);
            }
            // Whatever stops one (a file this process may not remove, a path outside the data folder), the others and the
            // run go on; the database's own failures stop the run as anywhere else.
            catch (Exception ex) when (CannotRemove(ex))
            {
                LogNotFinished(ex, id);
            }
        }
        return finished;
    }

    /// <summary>Finishes the deletion of a document found hidden, its deletion lock held by the caller, so that the same
    /// file can be stored again as a new document.</summary>
    /// <exception cref="DocumentBeingDeletedException">its files cannot be removed now: it stays hidden.</exception>
    internal async Task FinishHeldAsync(string documentId, string filePath, CancellationToken ct)
    {
        try
        {
            await RemoveAsync(documentId, filePath, ct);
        }
        catch (Exception ex) when (CannotRemove(ex))
        {
            LogNotFinished(ex, documentId);
            throw new DocumentBeingDeletedException(documentId, ex);
        }
    }

    /// <summary>What stops a deletion's files from being removed now (a file this process may not remove, a path outside the
    /// data folder): the document stays hidden and a later ingestion run tries again.</summary>
    private static bool CannotRemove(Exception ex) => ex is IOException or UnauthorizedAccessException or InvalidOperationException;

    private async Task<bool> MayDeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string documentId, CancellationToken ct)
    {
        foreach (var participant in participants)
            if (!await participant.MayDeleteAsync(connection, transaction, documentId, ct)) return false;
        return true;
    }

    /// <summary>With the deletion lock held and the document hidden: its files and the refused copies of its bytes, made
    /// durable, then its rows.</summary>
    private async Task RemoveAsync(string documentId, string filePath, CancellationToken ct)
    {
        var files = new List<string> { paths.Under(filePath)
            ?? throw new InvalidOperationException($"A stored document's path '{filePath}' lies outside the data folder.") };
        foreach (var participant in participants) files.AddRange(participant.FilesOf(documentId));
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files.Where(File.Exists))
        {
            File.Delete(file);
            folders.Add(Path.GetDirectoryName(file)!);
        }
        // An inbox entry refused with a copy of these bytes (a duplicate) keeps its folder under rejected/: it goes whole
        // (a link in it is removed, never followed) when a file in it still has these bytes; its record goes with it, or
        // when its folder is gone already. Any other stays, record and folder, and is logged.
        var rejectedCopies = new List<long>();
        foreach (var (recordId, path) in await store.RejectedCopiesAsync(documentId, ct))
        {
            if (paths.Under(path, paths.Rejected) is not { } entry || Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is not null)
            {
                LogRejectedCopyKept(documentId, path);
                continue;
            }
            if (Directory.Exists(entry))
            {
                if (!await HoldsCopyAsync(entry, documentId, ct))
                {
                    LogRejectedCopyKept(documentId, path);
                    continue;
                }
                Directory.Delete(entry, recursive: true);
                folders.Add(Path.GetDirectoryName(entry)!);
            }
            rejectedCopies.Add(recordId);
        }
        foreach (var folder in folders) AtomicFile.SyncFolder(folder); // the removals durable before the row that names the files goes
        await store.FinishDeletionAsync(documentId, rejectedCopies, ct);
    }

    /// <summary>Whether a file of the folder (not in a sub-folder) has the bytes of <paramref name="documentId"/>.</summary>
    private static async Task<bool> HoldsCopyAsync(string folder, string documentId, CancellationToken ct)
    {
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles().Where(f => f.LinkTarget is null))
            if (await InboxIngestor.HashAsync(file.FullName, ct) == documentId) return true;
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} deleted by {DeletedBy}: its files and everything derived from it")]
    private partial void LogDeleted(string documentId, string deletedBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting document {DocumentId}: the refused entry {Path} is kept (outside rejected/, a link, or no copy of the document in it any more)")]
    private partial void LogRejectedCopyKept(string documentId, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "An interrupted deletion of document {DocumentId} was finished")]
    private partial void LogFinished(string documentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The deletion of document {DocumentId} could not be finished now (it stays hidden); the next ingestion run tries again")]
    private partial void LogNotFinished(Exception ex, string documentId);
}
