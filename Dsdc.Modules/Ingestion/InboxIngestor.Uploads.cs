using System.Security.Cryptography;
using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Dsdc.Ingestion;

/// <summary>A file received over HTTP: the name the client gave it and how to copy its bytes.</summary>
public sealed record UploadedFile(string FileName, Func<Stream, CancellationToken, Task> CopyToAsync);

public sealed partial class InboxIngestor
{
    /// <summary>Inbox folders of an upload batch are named <c>upload-&lt;batch&gt;-&lt;NNNN&gt;</c>.</summary>
    public const string UploadFolderPrefix = "upload-";

    /// <summary>A new batch id: UTC time and 6 random hex digits (<c>20260102-101500-a1b2c3</c>).</summary>
    public string NewBatchId() =>
        $"{clock.GetUtcNow().UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    public static bool IsBatchId(string? batch) =>
        batch is { Length: 22 } b && b[8] == '-' && b[15] == '-'
        && b.Where((c, i) => i is not (8 or 15)).All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>The inbox folder name of the <paramref name="index"/>-th file of a batch (also its lineage's source folder).</summary>
    public static string BatchFolder(string batch, int index) => $"{UploadFolderPrefix}{batch}-{index:D4}";

    /// <summary>
    /// Ingests uploaded files with the inbox's own code: each file becomes an inbox folder of its own (written under
    /// <c>data/.uploads/</c> first, then renamed into the inbox while its entry lock is held, so no scheduled run takes a
    /// half-written file), and is then validated, deduplicated, stored or rejected with a reason exactly as a dropped
    /// folder would be. A rejected file lies under <c>rejected/</c> with its reason.txt and a rejection record. A class
    /// given with the upload (<paramref name="label"/>) is written with each accepted document, in its transaction, and
    /// given to a known document that has none when the file is a duplicate; it is kept in the database from before the
    /// file enters the inbox (<c>ingestion.upload_labels</c>), so an entry deferred, or left in the inbox by a process that
    /// stopped midway, is ingested by a later run with that class and who gave it.
    /// </summary>
    public async Task<IReadOnlyList<IngestionOutcome>> IngestUploadsAsync(string batch, IReadOnlyList<UploadedFile> files, IncomingLabel? label,
        CancellationToken ct)
    {
        if (!IsBatchId(batch)) throw new ArgumentException($"'{batch}' is not a batch id", nameof(batch));
        var staging = Path.Combine(paths.DataDir, ".uploads", "batch-" + batch);
        Directory.CreateDirectory(paths.Inbox);
        var outcomes = new List<IngestionOutcome>(files.Count);
        try
        {
            for (var i = 0; i < files.Count; i++)
            {
                var name = BatchFolder(batch, i);
                var staged = Directory.CreateDirectory(Path.Combine(staging, name));
                var path = Path.Combine(staged.FullName, UploadedName(files[i].FileName, i));
                await using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                    await files[i].CopyToAsync(target, ct);

                await using var entryLock = await store.TryLockEntryAsync(name, ct)
                    ?? throw new IOException($"inbox entry {name} is locked by another run");
                // Kept before the file enters the inbox: should the entry wait there (deferred, or this process stopped), the
                // run that ingests it later gives it this class and its giver.
                if (label is not null) await store.AddUploadLabelAsync(name, label, ct);
                var folder = Path.Combine(paths.Inbox, name);
                CrossVolume.MoveDirectory(staged.FullName, folder, logger); // the inbox may be a volume of its own
                IngestionOutcome outcome;
                try
                {
                    outcome = await IngestLockedFolderAsync(new DirectoryInfo(folder), requireSettled: false, label, ct)
                        ?? throw new IOException($"inbox entry {name} vanished while it was ingested");
                }
                catch (PdfRendererSetupException ex)
                {
                    // In the inbox now, ingested with its class by a run once PDFs can be read.
                    outcome = PdfReaderUnavailable(name, ex);
                }
                if (label is not null && outcome.Kind != IngestionOutcomeKind.Deferred) await ForgetUploadLabelAsync(name);
                IngestionMetrics.Record(outcome);
                outcomes.Add(outcome);
            }
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        return outcomes;
    }

    /// <summary>
    /// How long a file may lie untouched under <c>data/.uploads/</c> before an ingestion run removes it: what a request
    /// receiving it left when the process stopped (the client got no answer, so the file was never accepted). A request
    /// in progress writes its file within seconds and moves it out at once.
    /// </summary>
    public static readonly TimeSpan AbandonedUploadAge = TimeSpan.FromDays(1);

    /// <summary>The entry's upload class is no longer needed (the entry was stored, was a duplicate, or was rejected). Not
    /// cancellable, and never fails the outcome: a row left behind is removed once its entry has left the inbox.</summary>
    private async Task ForgetUploadLabelAsync(string folder)
    {
        try
        {
            await store.ForgetUploadLabelAsync(folder, CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            LogEntryLeft(folder, $"the class given with it could not be forgotten now: {ex.Message}");
        }
    }

    /// <summary>Forgets the upload classes kept for more than <see cref="AbandonedUploadAge"/> whose entries are no longer in
    /// the inbox (ingested while the class could not be forgotten, or removed by an operator).</summary>
    private async Task ForgetUploadLabelsOfEntriesGoneAsync(CancellationToken ct)
    {
        if (!Directory.Exists(paths.Inbox)) return; // an inbox volume not mounted: nothing is known to be gone
        foreach (var folder in await store.ListUploadLabelFoldersAsync(clock.GetUtcNow().UtcDateTime - AbandonedUploadAge, ct))
        {
            if (Path.Exists(Path.Combine(paths.Inbox, folder))) continue;
            // Under the entry's lock: an upload still writing it (or a run ingesting it) holds it.
            await using var entryLock = await store.TryLockEntryAsync(folder, ct);
            if (entryLock is null || Path.Exists(Path.Combine(paths.Inbox, folder))) continue;
            await store.ForgetUploadLabelAsync(folder, ct);
            logger.LogInformation("Forgot the class given with the upload {Entry}: the entry is no longer in the inbox", folder);
        }
    }

    /// <summary>Removes the entries of <c>data/.uploads/</c>, and the folders that <see cref="InboxDrop"/> or a copy across
    /// volumes (<see cref="CrossVolume"/>) was still writing under a hidden name in the inbox or <c>rejected/</c> when its
    /// process stopped, that nothing has written for <see cref="AbandonedUploadAge"/>.</summary>
    private int SweepAbandonedUploads() =>
        Sweep(new DirectoryInfo(Path.Combine(paths.DataDir, ".uploads")), _ => true, "data/.uploads", "a request that stopped midway left it")
        + Sweep(new DirectoryInfo(paths.Inbox), e => e.Name.StartsWith(InboxDrop.StagingPrefix, StringComparison.Ordinal), "the inbox",
            "an import, or a copy to another volume, that stopped midway left it")
        + Sweep(new DirectoryInfo(paths.Rejected), e => e.Name.StartsWith(InboxDrop.StagingPrefix, StringComparison.Ordinal), "data/rejected",
            "a copy from the inbox's volume that stopped midway left it");

    private int Sweep(DirectoryInfo dir, Func<FileSystemInfo, bool> abandoned, string where, string why)
    {
        if (!dir.Exists) return 0;
        var swept = 0;
        var cutoff = clock.GetUtcNow().UtcDateTime - AbandonedUploadAge;
        foreach (var entry in dir.EnumerateFileSystemInfos().Where(abandoned).ToList())
        {
            try
            {
                // A batch's folder counts as written when anything in it was.
                var lastWrite = entry is DirectoryInfo folder
                    ? folder.EnumerateFileSystemInfos("*", SearchOption.AllDirectories).Select(e => e.LastWriteTimeUtc)
                        .Append(folder.LastWriteTimeUtc).Max()
                    : entry.LastWriteTimeUtc;
                if (lastWrite > cutoff) continue;
                if (entry is DirectoryInfo d) d.Delete(recursive: true);
                else entry.Delete();
                swept++;
                logger.LogWarning("Removed {Entry} from {Where}: nothing wrote it since {LastWrite:u}, {Why}", entry.Name, where, lastWrite, why);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogEntryLeft(Path.Combine(Path.GetRelativePath(paths.DataDir, dir.FullName), entry.Name), ex.Message);
            }
        }
        return swept;
    }

    /// <summary>The client's file name without its path or control characters; never one the inbox reads as a label or reason,
    /// or passes over as an operating system's metadata file.</summary>
    private static string UploadedName(string clientName, int index)
    {
        var name = Path.GetFileName(TextInput.Name(clientName).Replace('\\', '/')).Trim();
        if (name.Length is 0 or > 200 || name is "." or "..") name = $"document-{index + 1:D4}";
        if (name.Equals(LabelFile.Name, StringComparison.OrdinalIgnoreCase) || name.Equals(ReasonFile, StringComparison.OrdinalIgnoreCase)
            || FolderMetadata.IsMetadata(name))
            name = "upload-" + name;
        return name;
    }
}
