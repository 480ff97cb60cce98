using Dsdc.ImageProcessing;
using Dsdc.Shared;

namespace Dsdc.Ingestion;

/// <summary>
/// Keeps a document that arrived by upload (a prediction request) in the same store as inbox documents, so it gets
/// the same lineage, the pipeline processes it, and a person's correction of its class can feed the next training.
/// </summary>
public sealed class DocumentIntake(DocumentStore store, DocumentDeletion deletion, DsdcPaths paths)
{
    /// <summary>
    /// The source folder recorded for uploaded documents, and the key of their entry lock: a dot name, which the inbox
    /// never reads, so a person's inbox folder named like it can neither share its lock nor be taken for it by recovery.
    /// </summary>
    public const string UploadFolder = ".upload";

    /// <summary>A folder on the data volume for files being received (moves from there into raw/ are renames).</summary>
    public string UploadsDir
    {
        get
        {
            var dir = Path.Combine(paths.DataDir, ".uploads");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static Task<string> HashAsync(string path, CancellationToken ct) => InboxIngestor.HashAsync(path, ct);

    /// <summary>
    /// Moves <paramref name="receivedFile"/> into raw/ under its SHA-1 unless that document is already known (then the
    /// received copy is deleted). Returns the document id. Same crash-safe order as the inbox: row, rename, stored.
    /// </summary>
    public Task<string> StoreAsync(string receivedFile, string originalName, DocumentInfo info, string sha1, CancellationToken ct) =>
        StoreAsync(receivedFile, originalName, info, sha1, null, ct);

    /// <summary>
    /// As <see cref="StoreAsync(string, string, DocumentInfo, string, CancellationToken)"/>, calling
    /// <paramref name="withDocument"/> (to store what was already computed from the file, and what was made of it, such as a
    /// prediction), under the document's deletion lock, once the file is in raw/ and
    /// BEFORE the document becomes <c>stored</c>, so the pipeline, which only takes stored documents, cannot start the
    /// same work meanwhile. A crash in between leaves the row <c>moving</c> with its file in raw/: the next ingestion run
    /// marks it stored and the pipeline does what is missing. A document already stored gets the call too (its rows
    /// are inserted idempotently).
    /// </summary>
    public async Task<string> StoreAsync(string receivedFile, string originalName, DocumentInfo info, string sha1,
        Func<string, CancellationToken, Task>? withDocument, CancellationToken ct)
    {
        // The entry lock of the uploads' source folder, the one the ingestion's recovery takes before it finishes or
        // removes a 'moving' row: it cannot take this document's row for an interrupted move while it is being stored.
        // Held for a few database statements and a rename.
        await using var entryLock = await store.LockEntryAsync(UploadFolder, ct);
        // And the document's deletion lock, to the end: no deletion of it starts while its file and rows are written (nor
        // removes the file this writes at the same path), and one under way ends first.
        await using var deletionLock = await store.LockDeletionAsync(sha1, ct);
        var known = await store.FindAsync(sha1, ct);
        if (known is { IngestState: "deleting", FilePath: var deletedPath })
        {
            // The same file deleted a moment ago (or a deletion a crash left): its files and rows go first, then it is new.
            // When they cannot be removed now, this upload is refused (DocumentBeingDeletedException), nothing of it kept,
            // rather than stored at the path of a file that is still going.
            await deletion.FinishHeldAsync(sha1, deletedPath, ct);
            known = null;
        }
        if (known is { IngestState: "stored" })
        {
            File.Delete(receivedFile);
            await store.TouchUploadAsync(sha1, ct); // sent again: a retention of unlabelled uploads counts from now
            if (withDocument is not null) await withDocument(sha1, ct);
            return sha1;
        }
        var relative = Path.Combine("raw", sha1[..1], sha1[1..2], sha1 + info.Extension);
        var size = new FileInfo(receivedFile).Length;
        // Control characters (a NUL above all: PostgreSQL text cannot hold it) are dropped from the client's name.
        var name = Path.GetFileName(TextInput.Name(originalName)) is { Length: > 0 and <= 255 } n ? n : "upload" + info.Extension;
        await store.TryAddMovingAsync(new NewDocument(sha1, name, UploadFolder, relative, info.MediaType, size, info.PageCount,
            info.Width, info.Height, null), ct);
        var target = Path.Combine(paths.DataDir, relative);
        AtomicFile.CreateFolder(Path.GetDirectoryName(target)!);
        // A file already at the target is this document only if it has its bytes: an inbox move across volumes copies
        // into raw/ in place, so a copy under way in another process, or one a crash stopped halfway (its row 'moving',
        // its whole file still in the inbox), leaves part of the file there. The received copy, whole, then replaces it
        // (a rename: the other copy, still writing, writes to the file it opened, and finds these bytes when it checks).
        if (File.Exists(target) && await HashAsync(target, ct) == sha1) File.Delete(receivedFile);
        else File.Move(receivedFile, target, overwrite: true);
        AtomicFile.SyncFolder(Path.GetDirectoryName(target)!); // durable before the row says stored
        try
        {
            if (withDocument is not null) await withDocument(sha1, ct);
        }
        finally
        {
            // Stored even when the caller's work failed or its request ended: the file is in raw/, and what the caller did not
            // store the pipeline computes; a row left 'moving' would hide the document until an ingestion run recovers it.
            await store.MarkStoredAsync(sha1, CancellationToken.None);
        }
        return sha1;
    }
}

/// <summary>
/// An upload's bytes are those of a document whose deletion cannot be finished now (some of its files cannot be removed):
/// the upload is refused and kept nowhere; the same file is accepted once the next ingestion run has finished the deletion.
/// </summary>
public sealed class DocumentBeingDeletedException(string documentId, Exception inner)
    : Exception($"A document with the same content (id {documentId}) is being deleted and its deletion cannot be finished now; " +
        "send the file again once the next ingestion run has finished it.", inner)
{
    public string DocumentId { get; } = documentId;
}
