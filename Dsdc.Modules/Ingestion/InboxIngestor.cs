using System.Security.Cryptography;
using Npgsql;
using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Ingestion;

/// <summary>
/// Moves documents from <c>data/to_ingest/</c> into <c>data/raw/</c> (or <c>data/rejected/</c> with a reason).
/// Each inbox sub-folder holds one document and an optional <c>label.txt</c>; a loose file at the inbox root is first
/// wrapped into a folder of its own. The SHA-1 of the file's bytes is the document id.
/// <para>
/// Crash safety: a file only ever moves by rename (atomic on one file system), so it is always in exactly one place.
/// The database row is written first in state 'moving', then the file is renamed, then the row becomes 'stored';
/// every run starts by finishing the moves an interrupted run left behind.
/// </para>
/// </summary>
public sealed partial class InboxIngestor(
    DocumentStore store,
    DocumentDeletion deletion,
    UploadRetention retention,
    IDocumentInspector inspector,
    DsdcPaths paths,
    IOptions<IngestionOptions> options,
    TimeProvider clock,
    ILogger<InboxIngestor> logger)
{
    private const string ReasonFile = "reason.txt";

    /// <summary>The reason code of a file whose bytes are those of a known document.</summary>
    public const string DuplicateReason = "duplicate";

    /// <summary>The reason code of a file the process died on while inspecting it, <see cref="MaxInspectionDeaths"/> times.</summary>
    public const string InspectionCrashedReason = "inspection-crashed";

    /// <summary>How many times the process may die while inspecting one file before the file is rejected.</summary>
    public const int MaxInspectionDeaths = 3;

    /// <summary>Ingests up to <paramref name="maxDocuments"/> inbox entries.</summary>
    public async Task<IngestionSummary> IngestAsync(int maxDocuments, IProgress<IngestionOutcome>? progress, CancellationToken ct)
    {
        var summary = new IngestionSummary { Recovered = await RecoverAsync(ct) };
        if (summary.Recovered > 0) IngestionMetrics.Outcomes.WithLabels("recovered").Inc(summary.Recovered);
        SweepAbandonedUploads();
        var done = 0;
        foreach (var outcome in await RejectUndecodableNamesAsync(ct))
        {
            summary.Add(outcome);
            IngestionMetrics.Record(outcome);
            progress?.Report(outcome);
            done++;
        }
        await RestoreInterruptedMovesAsync(ct);
        await deletion.FinishInterruptedAsync(ct);
        await ForgetUploadLabelsOfEntriesGoneAsync(ct);
        ForgetEntriesGone();
        WrapLooseFiles();
        foreach (var folder in ListFolders())
        {
            if (done >= maxDocuments) break;
            ct.ThrowIfCancellationRequested();
            var outcome = await IngestFolderAsync(folder, ct);
            if (outcome is null) continue;
            summary.Add(outcome);
            IngestionMetrics.Record(outcome);
            progress?.Report(outcome);
            if (outcome.Kind != IngestionOutcomeKind.Deferred) done++;
        }
        // After the inbox's entries, which its deletions (up to a batch, one after the other) would otherwise hold up.
        await retention.SweepIfDueAsync(ct);
        return summary;
    }

    /// <summary>How many entries wait in the inbox (for progress and backlog metrics).</summary>
    public int CountWaiting() =>
        Directory.Exists(paths.Inbox)
            ? new DirectoryInfo(paths.Inbox).EnumerateFileSystemInfos().Count(e => !e.Name.StartsWith('.') && !FolderMetadata.IsMetadata(e.Name))
            : 0;

    private IEnumerable<DirectoryInfo> ListFolders() =>
        new DirectoryInfo(paths.Inbox).EnumerateDirectories()
            .Where(d => !d.Name.StartsWith('.'))
            .OrderBy(d => d.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>Gives each settled loose file at the inbox root a folder of its own (a rename, so nothing is lost).</summary>
    private void WrapLooseFiles()
    {
        foreach (var file in new DirectoryInfo(paths.Inbox).EnumerateFiles().Where(f => !f.Name.StartsWith('.') && !FolderMetadata.IsMetadata(f.Name)).ToList())
        {
            if (!IsSettled(file)) continue;
            var folder = UniqueName(paths.Inbox, Path.GetFileNameWithoutExtension(file.Name) is { Length: > 0 } stem ? stem : "document");
            try
            {
                Directory.CreateDirectory(folder);
                if (file.LinkTarget is not null) RawNames.RenameEntry(file.FullName, Path.Combine(folder, file.Name)); // dangling too
                else file.MoveTo(Path.Combine(folder, file.Name));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another run wrapped it first, or it may not be moved: the empty folder made for it goes, the file stays.
                LogEntryLeft(file.Name, ex.Message);
                try { Directory.Delete(folder); } catch (IOException) { } // not empty: the file did arrive in it
            }
        }
    }

    private async Task<IngestionOutcome?> IngestFolderAsync(DirectoryInfo folder, CancellationToken ct)
    {
        await using var entryLock = await store.TryLockEntryAsync(folder.Name, ct);
        if (entryLock is null)
            return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Deferred, null, "locked", "another run is ingesting it");
        try
        {
            // An upload's entry that waited (deferred, or left by a process that stopped midway) keeps the class given with it.
            var uploadLabel = folder.Name.StartsWith(UploadFolderPrefix, StringComparison.Ordinal)
                ? await store.FindUploadLabelAsync(folder.Name, ct) : null;
            var outcome = await IngestLockedFolderAsync(folder, requireSettled: true, uploadLabel, ct);
            if (uploadLabel is not null && outcome is { Kind: not IngestionOutcomeKind.Deferred })
                await ForgetUploadLabelAsync(folder.Name);
            return outcome;
        }
        catch (UnauthorizedAccessException ex)
        {
            // An entry the app may not read (dropped by another user, mode 600): one entry's problem, never the run's, so
            // the entries after it are still ingested. It stays where it is (the app may not move what it may not write
            // either), said in the log and the run's outcomes, and is tried again next run.
            var reason = $"the app may not read this inbox entry ({ex.Message}); give the app's user access to it";
            LogEntryLeft(folder.Name, reason);
            return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Deferred, null, "unreadable", reason);
        }
        catch (IOException ex)
        {
            // The entry changed or vanished under this run (another run, an operator): it is looked at again next run.
            LogEntryLeft(folder.Name, ex.Message);
            return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Deferred, null, "io-error", ex.Message);
        }
        catch (PdfRendererSetupException ex)
        {
            return PdfReaderUnavailable(folder.Name, ex);
        }
    }

    /// <summary>A PDF cannot be read on this machine now (mutool missing, or killed from outside): the setup's problem, not
    /// the document's nor the run's. It stays in the inbox for a later run, and the entries after it are still ingested.</summary>
    private IngestionOutcome PdfReaderUnavailable(string folder, PdfRendererSetupException ex)
    {
        LogEntryLeft(folder, $"PDFs cannot be read now: {ex.Message}");
        return new IngestionOutcome(folder, IngestionOutcomeKind.Deferred, null, "pdf-reader-unavailable", PdfRendererSetupException.ClientMessage);
    }

    /// <summary>
    /// Ingests one inbox folder whose entry lock the caller holds. <paramref name="requireSettled"/> is false only for
    /// folders this process wrote completely itself (uploads), which need not wait for <c>Ingestion:SettleSeconds</c>.
    /// The document's class is <paramref name="givenLabel"/> (an upload's) or else its <c>label.txt</c>'s; a duplicate
    /// brings its class to the known document when that has none (<see cref="DuplicateAsync"/>).
    /// </summary>
    private async Task<IngestionOutcome?> IngestLockedFolderAsync(DirectoryInfo folder, bool requireSettled, IncomingLabel? givenLabel,
        CancellationToken ct)
    {
        folder.Refresh();
        if (!folder.Exists && folder.LinkTarget is null) return null; // another run finished it meanwhile

        string? fileName = null, sha1 = null;
        FileInfo? documentFile = null;
        try
        {
            if (folder.LinkTarget is not null)
                throw new RejectionException("symbolic-link", "the inbox entry is a symbolic link; links are never followed");
            var entries = folder.EnumerateFileSystemInfos().ToList();
            // Every entry looked at (no short cut): one dated in the future is seen from its first run on.
            if (requireSettled && (entries.Count(e => !IsSettled(e)) > 0 | !IsSettled(folder)))
                return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Deferred, null, "not-settled", "still being written");

            var (document, labelFile) = Classify(entries);
            fileName = document.Name;
            documentFile = document;
            var label = givenLabel ?? (labelFile is null ? null : new IncomingLabel(LabelFile.Read(labelFile.FullName), null));

            // Empty (a FIFO, a device) or too large: refused before anything reads the file.
            AsRejection(() => { inspector.CheckFile(document.FullName); return true; });
            var (size, written) = (document.Length, document.LastWriteTimeUtc);
            sha1 = await HashAsync(document.FullName, ct);
            document.Refresh();
            if (document.Length != size || document.LastWriteTimeUtc != written)
                return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Deferred, null, "not-settled", "changed while being read");
            var info = await InspectCountedAsync(document.FullName, sha1, folder.Name);

            var relative = Path.Combine("raw", sha1[..1], sha1[1..2], sha1 + info.Extension);
            var doc = new NewDocument(sha1, document.Name, folder.Name, relative, info.MediaType, size, info.PageCount, info.Width, info.Height, label);
            var added = false;
            for (var attempt = 0; attempt < 3 && !added; attempt++)
            {
                var known = await store.FindAsync(sha1, ct);
                if (known is { IngestState: "moving" })
                {
                    // An upload with a class waits for the other mover, so that its answer says what became of the class;
                    // a scheduled run defers the entry (an upload's class waits with it in ingestion.upload_labels).
                    if (givenLabel is null || requireSettled || known.SourceFolder == folder.Name) return BeingStored(folder, known);
                    known = await SettleMoveAsync(known, ct);
                }
                if (known is not null)
                {
                    if (known.IngestState == "moving") return BeingStored(folder, known);
                    if (known.IngestState == "deleting") return BeingDeleted(folder, known.Id);
                    // A duplicate of a stored document, unless a deletion takes that document meanwhile: its lock is held
                    // (never waited for) while the class goes to the document and the entry is recorded and moved to
                    // rejected/, so a deletion finds the copy there and removes it with the document.
                    await using var deletionLock = await store.TryLockDeletionAsync(sha1, ct);
                    if (deletionLock is null || await store.FindAsync(sha1, ct) is not { IngestState: "stored" }) return BeingDeleted(folder, sha1);
                    var duplicate = await DuplicateAsync(known, label, ct);
                    await RejectAsync(folder, fileName, sha1, duplicate.ReasonCode, duplicate.Message, ct);
                    return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Rejected, duplicate.KnownDocumentId, duplicate.ReasonCode, duplicate.Message);
                }
                added = await store.TryAddMovingAsync(doc, ct);
            }
            if (!added)
                return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Deferred, null, "being-stored",
                    "the same document kept being stored and removed by other entries; looked at again next run");

            await CompleteMoveAsync(sha1, document.FullName, relative, folder.FullName, ct);
            LogAccepted(folder.Name, sha1);
            return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Accepted, sha1, null, null);
        }
        catch (RejectionException ex) when (requireSettled && documentFile is not null && MayStillBeWritten(documentFile, ex.ReasonCode))
        {
            var wait = options.Value.IncompleteSeconds;
            return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Deferred, null, "incomplete",
                $"looks incomplete ({ex.ReasonCode}: {ex.Message}) and was written less than {wait} s ago, so it may still be being copied; " +
                $"it is rejected if it still looks so once nothing has written it for {wait} s (Ingestion:IncompleteSeconds)");
        }
        catch (RejectionException ex)
        {
            await RejectAsync(folder, fileName, sha1, ex.ReasonCode, ex.Message, ct);
            return new IngestionOutcome(folder.Name, IngestionOutcomeKind.Rejected, ex.KnownDocumentId, ex.ReasonCode, ex.Message);
        }
    }

    private static IngestionOutcome BeingDeleted(DirectoryInfo folder, string id) =>
        new(folder.Name, IngestionOutcomeKind.Deferred, null, "being-deleted",
            $"the same document ({id[..12]}) is being deleted, or stored by an upload, right now; looked at again by a later run");

    /// <summary>
    /// Whether a file refused for <paramref name="reasonCode"/> may be a copy still under way rather than a bad document: it
    /// looks as a partly written file looks (empty, truncated or damaged, no known header yet), and something wrote it
    /// less than <see cref="IngestionOptions.IncompleteSeconds"/> ago (<see cref="IngestionOptions.SettleSeconds"/> only
    /// says that nothing wrote it for a moment). Only while writers are not all declared atomic (SettleSeconds above 0).
    /// </summary>
    private bool MayStillBeWritten(FileInfo document, string reasonCode)
    {
        var o = options.Value;
        if (o.SettleSeconds <= 0 || o.IncompleteSeconds <= o.SettleSeconds
            || reasonCode is not (Refusal.EmptyFile or Refusal.Corrupt or Refusal.UnsupportedFormat)) return false;
        document.Refresh();
        return document.Exists && !IsUnchangedFor(document, TimeSpan.FromSeconds(o.IncompleteSeconds));
    }

    /// <summary>
    /// Inspects the file (its format, pages and size decoded). Decoding an untrusted file can take the process down (a
    /// crash in a native image decoder; PDFs are read by mutool in a process of its own), which no catch sees: each start is counted first
    /// and taken back after any outcome, so a file the process died on <see cref="MaxInspectionDeaths"/> times is
    /// rejected instead of stopping every run at the same folder.
    /// </summary>
    private async Task<DocumentInfo> InspectCountedAsync(string path, string sha1, string entry)
    {
        // Not cancellable once sent: a start the server counted must be taken back.
        var deaths = await store.StartInspectionAsync(sha1, CancellationToken.None);
        if (deaths >= MaxInspectionDeaths)
            throw new RejectionException(InspectionCrashedReason,
                $"the process stopped {deaths} times while reading this file (a crash in the image decoder, or mutool killed " +
                "as by the out-of-memory killer); it is set aside");
        var died = false;
        try
        {
            return AsRejection(() => inspector.Inspect(path));
        }
        catch (PdfRendererSetupException ex) when (ex.InnerException is OutOfMemoryException)
        {
            // mutool killed (SIGKILL), most often by the out-of-memory killer on this file's pages: counted as a death
            // on the file, as the process's own would be, so that a PDF that does it every time is set aside.
            died = true;
            throw;
        }
        finally
        {
            if (!died)
            {
                try
                {
                    await store.FinishInspectionAsync(sha1, CancellationToken.None);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    // Never masks the inspection's own outcome; the start stays counted (one death too many, of three).
                    LogEntryLeft(entry, $"the end of its inspection could not be recorded: {ex.Message}");
                }
            }
        }
    }

    /// <summary>A check of the file whose refusal (<see cref="InvalidDocumentException"/>) rejects the entry with its reason.</summary>
    private static T AsRejection<T>(Func<T> check)
    {
        try
        {
            return check();
        }
        catch (InvalidDocumentException ex)
        {
            throw new RejectionException(ex.ReasonCode, ex.Message);
        }
    }

    /// <summary>
    /// The same bytes are being stored from another entry (an upload, another run), or a crash left that move unfinished:
    /// not a duplicate yet, since the move may still fail and the recovery then forgets that row. Looked at again next run,
    /// when it is a duplicate of a stored document, or the only copy.
    /// </summary>
    private static IngestionOutcome BeingStored(DirectoryInfo folder, KnownDocument known) =>
        new(folder.Name, IngestionOutcomeKind.Deferred, null, "being-stored",
            $"the same document ({known.Id}) is being stored from '{known.SourceFolder}'; looked at again next run");

    private static (FileInfo Document, FileInfo? Label) Classify(List<FileSystemInfo> entries)
    {
        if (entries.FirstOrDefault(e => e.LinkTarget is not null) is { } link)
            throw new RejectionException("symbolic-link", $"'{link.Name}' is a symbolic link; links are never followed");
        if (entries.FirstOrDefault(e => e is DirectoryInfo) is { } sub)
            throw new RejectionException("unexpected-content", $"the folder holds a sub-folder '{sub.Name}'; it must hold one document and an optional label.txt");
        if (entries.FirstOrDefault(e => e.Name.Contains('\uFFFD') && !e.Exists) is { } undecodable)
            throw new RejectionException("unreadable-name",
                $"'{undecodable.Name}' is not a valid UTF-8 file name and cannot be opened by name; rename it and drop it again");
        // A regular file the operating system wrote beside the document (.DS_Store, Thumbs.db...) is not one of them.
        var files = entries.OfType<FileInfo>().Where(f => !(FolderMetadata.IsMetadata(f.Name) && f.LinkTarget is null)).ToList();
        var label = files.FirstOrDefault(f => f.Name.Equals(LabelFile.Name, StringComparison.OrdinalIgnoreCase));
        var documents = files.Where(f => f != label && !f.Name.Equals(ReasonFile, StringComparison.OrdinalIgnoreCase)).ToList();
        return documents.Count switch
        {
            0 => throw new RejectionException("empty-folder", label is not null ? "the folder holds a label.txt but no document"
                : entries.Any(e => FolderMetadata.IsMetadata(e.Name))
                    ? $"the folder holds no document, only the operating system's {string.Join(", ", entries.Where(e => FolderMetadata.IsMetadata(e.Name)).Select(e => e.Name).Take(3))}"
                : "the folder is empty"),
            1 => (documents[0], label),
            _ => throw new RejectionException("multiple-files",
                $"the folder holds {documents.Count} files ({string.Join(", ", documents.Select(d => d.Name).Take(5))}); it must hold exactly one document"),
        };
    }

    /// <summary>
    /// Inbox entries whose names are not UTF-8 cannot be addressed through .NET: each is renamed by its raw bytes into
    /// rejected/unreadable-name-&lt;hex&gt;/ with a reason.txt (and a rejection record), so it is neither lost nor retried forever.
    /// </summary>
    private async Task<List<IngestionOutcome>> RejectUndecodableNamesAsync(CancellationToken ct)
    {
        var outcomes = new List<IngestionOutcome>();
        foreach (var raw in RawNames.Undecodable(paths.Inbox))
        {
            var shown = System.Text.Encoding.UTF8.GetString(raw);
            var hex = RawNames.Hex(raw);
            // One run at a time per entry (the CLI's ingest beside the scheduled job): two would pick the same target.
            await using var entryLock = await store.TryLockEntryAsync("unreadable-name-" + hex, ct);
            if (entryLock is null || !RawNames.Undecodable(paths.Inbox).Any(n => n.AsSpan().SequenceEqual(raw))) continue; // moved meanwhile
            var target = UniqueName(paths.Rejected, "unreadable-name-" + hex);
            var reason = $"the inbox entry's name (bytes {hex}) is not valid UTF-8; it was moved here as '{Path.GetFileName(target)}/entry'";
            // The entry moves first, then the record says where it is: a crash between them leaves the entry with its
            // reason.txt in rejected/, never a record of a folder that holds nothing. One that cannot be moved (another
            // user's folder, not writable by this one) stays in the inbox, said, and does not stop the other entries.
            try
            {
                Directory.CreateDirectory(target);
                await File.WriteAllTextAsync(Path.Combine(target, ReasonFile), $"unreadable-name: {reason}\n", ct);
                RawNames.Rename(paths.Inbox, raw, Path.Combine(target, "entry"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Only what this run made: its reason.txt, then the folder if nothing else is in it.
                try
                {
                    File.Delete(Path.Combine(target, ReasonFile));
                    Directory.Delete(target);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
                var why = $"the inbox entry's name (bytes {hex}) is not valid UTF-8 and it cannot be moved to rejected/ ({ex.Message}); rename it";
                LogEntryLeft(shown, why);
                outcomes.Add(new IngestionOutcome(shown, IngestionOutcomeKind.Deferred, null, "unreadable-name", why));
                continue;
            }
            await store.AddRejectionAsync(shown, null, null, "unreadable-name", reason, Path.GetRelativePath(paths.DataDir, target), ct);
            LogRejected(shown, "unreadable-name", reason);
            outcomes.Add(new IngestionOutcome(shown, IngestionOutcomeKind.Rejected, null, "unreadable-name", reason));
        }
        return outcomes;
    }

    /// <summary>
    /// The refusal of a file whose bytes are a known document's. A class that came with it is not lost: a known document
    /// without any label takes it; one with a label keeps it (a person may have set it) and the reason says so.
    /// </summary>
    private async Task<RejectionException> DuplicateAsync(KnownDocument known, IncomingLabel? label, CancellationToken ct)
    {
        var reason = $"duplicate of known document {known.Id} (ingested from '{known.SourceFolder}/{known.OriginalName}' on {known.IngestedAt:yyyy-MM-dd HH:mm} UTC)";
        if (label is not null)
        {
            var given = DocumentClasses.NameOf(label.Label);
            reason += "; " + await store.LabelIfUnlabelledAsync(known.Id, label, ct) switch
            {
                null => $"it had no class and now has this file's, '{given}'",
                { } kept when kept == label.Label => $"it already has the class '{given}'",
                { } kept => $"it keeps its class '{DocumentClasses.NameOf(kept)}' (this file's '{given}' was not applied: change it on the document's page)",
            };
        }
        return new RejectionException(DuplicateReason, reason) { KnownDocumentId = known.Id };
    }

    /// <summary>What became of the class that came with a duplicate, from its recorded reason (what follows the known
    /// document's ingestion time); null when none came. Only the last such place counts, and only a note as
    /// <see cref="DuplicateAsync"/> words it, since a folder or file name may hold the same characters.</summary>
    public static string? DuplicateLabelNote(string? reason)
    {
        const string after = " UTC); ";
        if (reason?.LastIndexOf(after, StringComparison.Ordinal) is not (>= 0 and var i)) return null;
        var note = reason[(i + after.Length)..];
        return LabelNoteOpenings.Any(o => note.StartsWith(o, StringComparison.Ordinal)) ? note : null;
    }

    private static readonly string[] LabelNoteOpenings = ["it had no class and now has", "it already has the class", "it keeps its class"];
}
