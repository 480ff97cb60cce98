using System.Security.Cryptography;
using System.Text;
using Dsdc.ImageProcessing;
using Microsoft.Extensions.Logging;

namespace Dsdc.Ingestion;

public sealed partial class InboxIngestor
{
    /// <summary>
    /// Renames the document into raw/, removes what is left of its inbox folder and marks its row stored.
    /// Safe to repeat: each step checks whether it already happened.
    /// </summary>
    private async Task CompleteMoveAsync(string id, string? inboxFile, string relative, string? inboxFolder, CancellationToken ct)
    {
        var target = Path.Combine(paths.DataDir, relative);
        if (inboxFile is not null && File.Exists(inboxFile))
        {
            AtomicFile.CreateFolder(Path.GetDirectoryName(target)!);
            if (File.Exists(target))
            {
                // Only a crash between two identical ingestions can get here: raw/ already holds these exact bytes.
                if (await HashAsync(target, ct) != id)
                    throw new IOException($"{relative} exists with other content; refusing to overwrite it");
                File.Delete(inboxFile);
            }
            else
            {
                File.Move(inboxFile, target);
            }
        }
        // The rename (this run's, or an interrupted run's) made durable before the row says 'stored': after a power loss
        // the row never points at nothing.
        if (File.Exists(target)) AtomicFile.SyncFolder(Path.GetDirectoryName(target)!);
        // The inbox folder goes before the row says 'stored' (its label is in the row already): a crash in between leaves
        // a 'moving' row that recovery finishes, never a folder holding only label.txt that the next run would reject
        // as empty for a document that was accepted.
        if (inboxFolder is not null)
        {
            try
            {
                RemoveInboxFolder(inboxFolder);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The document is in raw/ with its label in the row: it is stored whatever is left in the inbox (said).
                LogEntryLeft(Path.GetFileName(inboxFolder), $"stored as {id}, but its inbox folder cannot be removed: {ex.Message}");
            }
        }
        await store.MarkStoredAsync(id, ct);
    }

    /// <summary>Deletes the label and reason files and the operating system's metadata files (<see cref="FolderMetadata"/>),
    /// then the folder itself once no other file is left in it.</summary>
    private static void RemoveInboxFolder(string folder)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var name in new[] { LabelFile.Name, ReasonFile })
        {
            var file = Directory.EnumerateFiles(folder).FirstOrDefault(f => Path.GetFileName(f).Equals(name, StringComparison.OrdinalIgnoreCase));
            if (file is not null) File.Delete(file);
        }
        foreach (var metadata in new DirectoryInfo(folder).EnumerateFiles().Where(f => FolderMetadata.IsMetadata(f.Name) && f.LinkTarget is null).ToList())
            metadata.Delete();
        if (!Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }

    /// <summary>
    /// Moves the whole inbox folder to rejected/ with a reason.txt, after recording the rejection (once per target
    /// path, so an interrupted rejection that is retried records nothing twice).
    /// </summary>
    private async Task RejectAsync(DirectoryInfo folder, string? fileName, string? sha1, string code, string reason, CancellationToken ct)
    {
        var target = UniqueName(paths.Rejected, folder.Name);
        var relative = Path.GetRelativePath(paths.DataDir, target);
        var text = $"{code}: {reason}\n";
        await store.AddRejectionAsync(folder.Name, fileName, sha1, code, reason, relative, ct);
        if (folder.LinkTarget is not null || ReasonFileUnsafe(folder))
        {
            // Never write through a link (nor into a named pipe): the entry itself moves into a folder that carries the reason.
            Directory.CreateDirectory(target);
            try
            {
                await File.WriteAllTextAsync(Path.Combine(target, ReasonFile), text, Encoding.UTF8, ct);
                CrossVolume.MoveDirectory(folder.FullName, Path.Combine(target, folder.Name), logger);
            }
            catch (Exception) when (!Path.Exists(Path.Combine(target, folder.Name)) && !IsLink(Path.Combine(target, folder.Name)))
            {
                // Not moved: the folder made for it goes, so that the next run rejects it at the same path (one record).
                Directory.Delete(target, recursive: true);
                throw;
            }
        }
        else
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, ReasonFile), text, Encoding.UTF8, ct);
            CrossVolume.MoveDirectory(folder.FullName, target, logger);
        }
        LogRejected(folder.Name, code, reason);
    }

    /// <summary>
    /// Whether the folder already holds a reason.txt that writing would go through or block on: a symbolic link (its target
    /// may lie anywhere, or nowhere yet, and a folder holding one is refused for it), a folder of that name, or anything
    /// empty (a named pipe's length is 0 too, and opening it would block for good). A reason.txt this software wrote before
    /// (a rejection retried after a crash) is a regular file with text, and is written over as before.
    /// </summary>
    private static bool ReasonFileUnsafe(DirectoryInfo folder)
    {
        var existing = new FileInfo(Path.Combine(folder.FullName, ReasonFile));
        return existing.LinkTarget is not null || Directory.Exists(existing.FullName) || (existing.Exists && existing.Length == 0);
    }

    /// <summary>
    /// Puts back into the inbox the folders that a move to another volume set aside when its process stopped before the
    /// copy was in place (<see cref="CrossVolume"/>), under their entry lock (a live run's move holds it).
    /// </summary>
    private async Task RestoreInterruptedMovesAsync(CancellationToken ct)
    {
        foreach (var (aside, name) in CrossVolume.Interrupted(paths.Inbox))
        {
            await using var entryLock = await store.TryLockEntryAsync(name, ct);
            if (entryLock is null || !(Path.Exists(aside) || IsLink(aside))) continue; // being moved, or moved meanwhile
            try
            {
                var to = UniqueName(paths.Inbox, name);
                CrossVolume.Restore(aside, to);
                logger.LogWarning("Put {Folder} back into the inbox as {Entry}: a move to another volume stopped midway", name, Path.GetFileName(to));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogEntryLeft(Path.GetFileName(aside), $"set aside by a move that stopped midway, it cannot be put back yet: {ex.Message}");
            }
        }
    }

    /// <summary>Finishes the moves that an interrupted run left in state 'moving'. Returns how many it finished.</summary>
    private async Task<int> RecoverAsync(CancellationToken ct)
    {
        var recovered = 0;
        foreach (var doc in await store.ListMovingAsync(ct))
        {
            await using var entryLock = await store.TryLockEntryAsync(doc.SourceFolder, ct);
            if (entryLock is null) continue; // a live run is moving it right now
            try
            {
                if (await RecoverLockedAsync(doc.Id, ct)) recovered++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // One move that cannot be finished now (a folder this process may not write) stays 'moving' for the next
                // run; it does not stop the others, nor this run's ingestion.
                LogEntryLeft(doc.SourceFolder, $"its interrupted ingestion as {doc.Id} cannot be finished yet: {ex.Message}");
            }
        }
        return recovered;
    }

    /// <summary>
    /// With the entry lock of its source folder held: finishes a 'moving' document's move when its file is in raw/ or
    /// still in its inbox folder (true), or forgets the row when the file is gone.
    /// </summary>
    private async Task<bool> RecoverLockedAsync(string id, CancellationToken ct)
    {
        var doc = await store.FindAsync(id, ct);
        if (doc is not { IngestState: "moving" }) return false;

        // An upload has no inbox folder: its file went from data/.uploads/ straight to raw/.
        var inboxFolder = doc.SourceFolder == DocumentIntake.UploadFolder ? null : Path.Combine(paths.Inbox, doc.SourceFolder);
        var inboxFile = inboxFolder is null ? null : Path.Combine(inboxFolder, doc.OriginalName);
        // A file in raw/ counts only with the document's bytes: a move across file systems is a copy, and a crash during
        // it leaves a partial file there, which is removed (the inbox still holds the whole file then).
        var rawPath = Path.Combine(paths.DataDir, doc.FilePath);
        var inRaw = File.Exists(rawPath) && await HashAsync(rawPath, ct) == doc.Id;
        if (!inRaw && File.Exists(rawPath))
        {
            File.Delete(rawPath);
            logger.LogWarning("Removed the partial copy of {DocumentId} that an interrupted move left in raw/", doc.Id);
        }
        if (inRaw || (inboxFile is not null && File.Exists(inboxFile) && await HashAsync(inboxFile, ct) == doc.Id))
        {
            await CompleteMoveAsync(doc.Id, inRaw ? null : inboxFile, doc.FilePath, inboxFolder, ct);
            logger.LogInformation("Finished the interrupted ingestion of {DocumentId} from {Folder}", doc.Id, doc.SourceFolder);
            return true;
        }
        await store.DeleteMovingAsync(doc.Id, ct);
        logger.LogWarning("Document {DocumentId} from {Folder} left the inbox before it was stored; its record was removed",
            doc.Id, doc.SourceFolder);
        return false;
    }

    /// <summary>
    /// For an upload with a class, whose answer says what became of it: instead of deferring a file whose bytes are being
    /// stored from another entry (the class would wait with it, and the answer could not say), waits for that entry's mover (a rename and a few statements),
    /// finishing or forgetting its move if it was interrupted, and returns the row as it then is (null: not stored).
    /// </summary>
    private async Task<KnownDocument?> SettleMoveAsync(KnownDocument moving, CancellationToken ct)
    {
        await using (await store.LockEntryAsync(moving.SourceFolder, ct))
            await RecoverLockedAsync(moving.Id, ct);
        return await store.FindAsync(moving.Id, ct);
    }

    /// <summary>
    /// Whether nothing has written the entry for <see cref="IngestionOptions.SettleSeconds"/>. An entry dated in the future
    /// (a copy that kept the time of a machine whose clock runs ahead, a FAT drive's local time) would otherwise wait
    /// until that time came: it is settled once this process has seen it unchanged (size and time) for as long.
    /// </summary>
    private bool IsSettled(FileSystemInfo entry) => IsUnchangedFor(entry, TimeSpan.FromSeconds(options.Value.SettleSeconds));

    /// <summary>Whether nothing has written the entry for <paramref name="settle"/> (an entry dated in the future: since this
    /// process first saw it as it is now).</summary>
    private bool IsUnchangedFor(FileSystemInfo entry, TimeSpan settle)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var written = entry.LastWriteTimeUtc;
        if (written <= now)
        {
            _datedInTheFuture.TryRemove(entry.FullName, out _);
            return now - written >= settle;
        }
        var length = entry is FileInfo file ? file.Length : 0;
        var seen = _datedInTheFuture.AddOrUpdate(entry.FullName, _ => (length, written, now),
            (_, before) => before.Length == length && before.Written == written ? before : (length, written, now));
        return now - seen.Since >= settle;
    }

    /// <summary>The entries dated in the future: their size and time, and since when this process sees them so.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Length, DateTime Written, DateTime Since)> _datedInTheFuture =
        new(StringComparer.Ordinal);

    /// <summary>Forgets the entries dated in the future that have left the inbox.</summary>
    private void ForgetEntriesGone()
    {
        foreach (var path in _datedInTheFuture.Keys)
            if (!Path.Exists(path)) _datedInTheFuture.TryRemove(path, out _);
    }

    /// <summary><paramref name="name"/> under <paramref name="parent"/>, or name~2, name~3... when taken.</summary>
    internal static string UniqueName(string parent, string name)
    {
        var candidate = Path.Combine(parent, name);
        for (var n = 2; Path.Exists(candidate) || IsLink(candidate); n++)
            candidate = Path.Combine(parent, $"{name}~{n}");
        return candidate;
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    internal static async Task<string> HashAsync(string path, CancellationToken ct)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA1.HashDataAsync(stream, ct));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingested {Folder} as {DocumentId}")]
    private partial void LogAccepted(string folder, string documentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox entry {Entry} left in place for the next run: {Reason}")]
    private partial void LogEntryLeft(string entry, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {Folder} ({ReasonCode}): {Reason}")]
    private partial void LogRejected(string folder, string reasonCode, string reason);
}
