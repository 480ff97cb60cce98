using System.Security.Cryptography;
using Dsdc.Ingestion;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Ingestion;

/// <summary>
/// The states a crash can leave behind, made on purpose (the same rows and files an interrupted run leaves), then a
/// new run: every file in exactly one place, every row consistent with the disk, nothing twice.
/// </summary>
public sealed class CrashSafetyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Sha1(string path) => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(path)));

    private static NewDocument Row(string id, string folder, string name, string ext) =>
        new(id, name, folder, Path.Combine("raw", id[..1], id[1..2], id + ext), "image/tiff", 1000, 1, 754, 1000, new IncomingLabel(4, null));

    /// <summary>A duplicate of a stored document arrives while a deletion of that document holds its lock (about to hide
    /// it): the entry waits instead of naming a document that may be gone a moment later, and is a duplicate the next run.</summary>
    [Fact]
    public async Task ADuplicateArrivingAsItsDocumentIsBeingDeletedWaitsForTheDeletion()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, label) = Fixtures.First(".tif");
        var id = Sha1(path);
        app.Drop("first", path, label.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, (await app.Ingestor.IngestAsync(10, null, Ct)).Accepted);
        var store = app.Services.GetRequiredService<DocumentStore>();

        await using (await store.LockDeletionAsync(id, Ct))
        {
            app.Drop("copy", path, name: "copy.tif");
            var outcomes = new List<IngestionOutcome>();
            await app.Ingestor.IngestAsync(10, new Collect(outcomes), Ct);
            Assert.Equal((IngestionOutcomeKind.Deferred, "being-deleted"), (Assert.Single(outcomes).Kind, outcomes[0].ReasonCode));
        }

        var next = new List<IngestionOutcome>();
        await app.Ingestor.IngestAsync(10, new Collect(next), Ct);
        Assert.Equal((IngestionOutcomeKind.Rejected, InboxIngestor.DuplicateReason), (Assert.Single(next).Kind, next[0].ReasonCode));
    }

    /// <summary>The same file arrives while its document is being deleted in another process (hidden, its deletion's lock
    /// held): the entry waits in the inbox. Once that process is gone with the deletion half done, the next run finishes
    /// the deletion, then stores the file as a new document.</summary>
    [Fact]
    public async Task AFileArrivingWhileItsDocumentIsBeingDeletedWaitsThenIsStoredAsANewDocument()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, label) = Fixtures.First(".png");
        var id = Sha1(path);
        app.Drop("first", path, label.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, (await app.Ingestor.IngestAsync(10, null, Ct)).Accepted);
        var raw = Path.Combine(app.Paths.DataDir, await app.ScalarAsync<string>("SELECT file_path FROM ingestion.original_documents WHERE id = @id", new { id }));
        var store = app.Services.GetRequiredService<DocumentStore>();

        await using (await store.LockDeletionAsync(id, Ct))
        {
            Assert.Equal(DocumentStore.DeletionStart.Started,
                (await store.StartDeletionAsync(id, "someone", (_, _, _) => Task.FromResult(true), Ct)).Start);
            app.Drop("again", path, name: "again.png");
            var outcomes = new List<IngestionOutcome>();
            var waiting = await app.Ingestor.IngestAsync(10, new Collect(outcomes), Ct);
            Assert.Equal((0, 0, 1), (waiting.Accepted, waiting.Rejected, waiting.Deferred));
            Assert.Equal("being-deleted", Assert.Single(outcomes).ReasonCode);
            Assert.Single(app.InboxEntries());
            Assert.True(File.Exists(raw));
        }

        var next = await app.Ingestor.IngestAsync(10, null, Ct);
        Assert.Equal(1, next.Accepted);
        Assert.Empty(app.InboxEntries());
        Assert.Equal(("again.png", "stored"), Assert.Single(await app.QueryAsync<(string, string)>(
            "SELECT original_name, ingest_state FROM ingestion.original_documents WHERE id = @id", new { id })));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id", new { id }));
        Assert.True(File.Exists(raw));
        Assert.NotNull(await app.ScalarAsync<DateTime?>("SELECT finished_at FROM ingestion.deletions WHERE document_id = @id", new { id }));
    }

    /// <summary>
    /// An upload being stored (its row 'moving', its file already in raw/, its lineage being written) is never taken by
    /// an ingestion run for an interrupted move: the run's recovery waits its turn, and the upload becomes stored once.
    /// </summary>
    [Fact]
    public async Task AnUploadBeingStoredIsNeverTakenForAnInterruptedMove()
    {
        await using var app = await IngestionApp.StartAsync();
        var intake = app.Services.GetRequiredService<DocumentIntake>();
        var (path, _) = Fixtures.First(".png");
        var received = Path.Combine(intake.UploadsDir, "received-upload");
        File.Copy(path, received);
        var info = app.Services.GetRequiredService<Dsdc.ImageProcessing.IDocumentInspector>().Inspect(received);
        var id = Sha1(path);
        var inLineage = new TaskCompletionSource();
        var release = new TaskCompletionSource();

        var storing = intake.StoreAsync(received, "scan.png", info, id, async (_, _) =>
        {
            inLineage.SetResult();
            await release.Task;
        }, Ct);
        await inLineage.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(0, summary.Recovered);
        Assert.Equal("moving", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
        release.SetResult();
        Assert.Equal(id, await storing.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task ACrashAfterTheRowWasWrittenButBeforeTheMoveIsFinishedByTheNextRun()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, _) = Fixtures.First(".tif");
        var inboxCopy = app.Drop("interrupted", path, "4");
        var id = Sha1(path);
        await app.Services.GetRequiredService<DocumentStore>().TryAddMovingAsync(Row(id, "interrupted", Path.GetFileName(path), ".tif"), Ct);

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, summary.Recovered);
        Assert.Equal(0, summary.Accepted + summary.Rejected);
        Assert.False(File.Exists(inboxCopy));
        Assert.Equal([Path.Combine(id[..1], id[1..2], id + ".tif")], app.FilesUnder("raw"));
        Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents"));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels"));
        Assert.False(Directory.Exists(Path.Combine(app.Paths.Inbox, "interrupted")));
    }

    /// <summary>
    /// A file the process died on while inspecting it (a stack overflow in the PDF parser, a native decoder's crash: no
    /// catch sees them), as the counted starts record it: after three deaths the next run rejects it with the reason
    /// instead of dying on it again, and the folders after it are ingested. An inspection the process survives leaves
    /// nothing counted.
    /// </summary>
    [Fact]
    public async Task AFileTheProcessDiedOnWhileInspectingItIsRejectedAfterThreeDeaths()
    {
        await using var app = await IngestionApp.StartAsync();
        var (crasher, _) = Fixtures.First(".tif");
        var (fine, _) = Fixtures.First(".png");
        app.Drop("a-crasher", crasher, "4");
        app.Drop("b-fine", fine, "4");
        // Three starts that never finished, as three process deaths during the inspection leave them.
        await app.ScalarAsync<int>("INSERT INTO ingestion.inspection_starts (sha1, unfinished) VALUES (@id, 3) RETURNING 1", new { id = Sha1(crasher) });

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, summary.Accepted);
        Assert.Equal(1, summary.RejectedByReason.GetValueOrDefault(InboxIngestor.InspectionCrashedReason));
        Assert.Contains("stopped 3 times while reading this file",
            await File.ReadAllTextAsync(Path.Combine(app.Paths.Rejected, "a-crasher", "reason.txt"), Ct));
        Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, "a-crasher", Path.GetFileName(crasher))));
        Assert.Equal(Sha1(crasher), await app.ScalarAsync<string>(
            "SELECT sha1 FROM ingestion.rejected_documents WHERE reason_code = @code", new { code = InboxIngestor.InspectionCrashedReason }));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.inspection_starts WHERE sha1 = @id", new { id = Sha1(fine) }));
    }

    [Fact]
    public async Task ACrashAfterTheMoveButBeforeTheRowWasMarkedIsFinishedByTheNextRun()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, inboxCopy, raw) = await RowRecordedBeforeTheMoveAsync(app, "moved");
        File.Move(inboxCopy, raw);

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, summary.Recovered);
        Assert.Equal(0, summary.Rejected); // the label.txt left behind is not mistaken for an empty folder
        Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents"));
        Assert.False(Directory.Exists(Path.Combine(app.Paths.Inbox, "moved")));
        Assert.Single(app.FilesUnder("raw"));
    }

    /// <summary>
    /// A move across file systems is a copy: a crash during it leaves a partial file in raw/ beside the whole one still in
    /// the inbox. The next run does not take the partial file for the document: it stores the inbox's whole file instead.
    /// </summary>
    [Fact]
    public async Task ACopyInterruptedHalfwayIsReplacedByTheWholeFileFromTheInbox()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, inboxCopy, raw) = await RowRecordedBeforeTheMoveAsync(app, "copied");
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        await File.WriteAllBytesAsync(raw, bytes[..(bytes.Length / 2)], Ct);

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, summary.Recovered);
        Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents"));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(raw, Ct));
        Assert.False(File.Exists(inboxCopy));
    }

    /// <summary>
    /// The same document uploaded for a prediction while its inbox copy lies half-copied in raw/ (a move across volumes
    /// under way, or stopped by a crash: its row 'moving'): the upload's whole file replaces the partial one before the
    /// document is stored, never the other way round; the inbox's copy is then a duplicate of a whole document.
    /// </summary>
    [Fact]
    public async Task AnUploadNeverStoresADocumentOverAHalfCopiedFile()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, inboxCopy, raw) = await RowRecordedBeforeTheMoveAsync(app, "copying");
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        await File.WriteAllBytesAsync(raw, bytes[..(bytes.Length / 2)], Ct);
        var intake = app.Services.GetRequiredService<DocumentIntake>();
        var received = Path.Combine(intake.UploadsDir, "received-upload");
        File.Copy(path, received);
        var info = app.Services.GetRequiredService<Dsdc.ImageProcessing.IDocumentInspector>().Inspect(received);

        var id = await intake.StoreAsync(received, "scan.tif", info, Sha1(path), Ct);

        Assert.Equal(Sha1(path), id);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(raw, Ct));
        Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
        Assert.False(File.Exists(received));
        // The inbox's copy: the same bytes as a stored document, nothing is written over it.
        await app.Ingestor.IngestAsync(10, null, Ct);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(raw, Ct));
        Assert.False(File.Exists(inboxCopy));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task ARowWhoseFileLeftTheInboxIsForgotten()
    {
        await using var app = await IngestionApp.StartAsync();
        await app.Services.GetRequiredService<DocumentStore>().TryAddMovingAsync(Row(new string('a', 40), "gone", "gone.tif", ".tif"), Ct);

        await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents"));
    }

    [Fact]
    public async Task ARejectionRecordedButNotMovedIsMovedOnceByTheNextRun()
    {
        await using var app = await IngestionApp.StartAsync();
        app.DropBytes("half-rejected", "empty.tif", [], "0");
        await app.Services.GetRequiredService<DocumentStore>().AddRejectionAsync("half-rejected", "empty.tif", null, "empty-file",
            "the file is empty", Path.Combine("rejected", "half-rejected"), Ct);

        await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents"));
        Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, "half-rejected", "empty.tif")));
        Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, "half-rejected", "reason.txt")));
    }

    /// <summary>
    /// Files a request was receiving when the process stopped (a prediction upload, a batch's staging folder) are
    /// removed by a later ingestion run once nothing has written them for a day; a file being received now stays.
    /// </summary>
    [Fact]
    public async Task WhatAStoppedRequestLeftInTheUploadsFolderIsRemovedOnceItIsADayOld()
    {
        await using var app = await IngestionApp.StartAsync();
        var uploads = app.Services.GetRequiredService<DocumentIntake>().UploadsDir;
        var (path, _) = Fixtures.First(".png");
        var longAgo = DateTime.UtcNow - InboxIngestor.AbandonedUploadAge - TimeSpan.FromHours(1);
        var abandoned = Path.Combine(uploads, "0123456789abcdef0123456789abcdef");
        File.Copy(path, abandoned);
        File.SetLastWriteTimeUtc(abandoned, longAgo);
        var batch = Directory.CreateDirectory(Path.Combine(uploads, "batch-20260101-000000-abcdef", "upload-20260101-000000-abcdef-0000"));
        File.Copy(path, Path.Combine(batch.FullName, "scan.png"));
        File.SetLastWriteTimeUtc(Path.Combine(batch.FullName, "scan.png"), longAgo);
        Directory.SetLastWriteTimeUtc(batch.FullName, longAgo);
        Directory.SetLastWriteTimeUtc(batch.Parent!.FullName, longAgo);
        // A batch whose folder is old but whose second file is being written now.
        var busy = Directory.CreateDirectory(Path.Combine(uploads, "batch-20260101-000001-abcdef", "upload-20260101-000001-abcdef-0001"));
        File.Copy(path, Path.Combine(busy.FullName, "scan.png"));
        File.SetLastWriteTimeUtc(Path.Combine(busy.FullName, "scan.png"), DateTime.UtcNow);
        Directory.SetLastWriteTimeUtc(busy.FullName, longAgo);
        Directory.SetLastWriteTimeUtc(busy.Parent!.FullName, longAgo);
        var receiving = Path.Combine(uploads, "fedcba9876543210fedcba9876543210");
        File.Copy(path, receiving);
        File.SetLastWriteTimeUtc(receiving, DateTime.UtcNow);

        await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.False(File.Exists(abandoned));
        Assert.False(Directory.Exists(batch.Parent.FullName));
        Assert.True(File.Exists(Path.Combine(busy.FullName, "scan.png")));
        Assert.True(File.Exists(receiving));
        Assert.Empty(app.InboxEntries());
    }

    /// <summary>A folder that an import was still writing under its hidden name when its process stopped is removed once
    /// it is a day old; one being written now, and hidden entries of anyone else, stay.</summary>
    [Fact]
    public async Task WhatAStoppedImportLeftHiddenInTheInboxIsRemovedOnceItIsADayOld()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, _) = Fixtures.First(".png");
        var longAgo = DateTime.UtcNow - InboxIngestor.AbandonedUploadAge - TimeSpan.FromHours(1);
        string Hidden(string name, DateTime written)
        {
            var dir = Directory.CreateDirectory(Path.Combine(app.Paths.Inbox, name)).FullName;
            File.Copy(path, Path.Combine(dir, "scan.png"));
            File.SetLastWriteTimeUtc(Path.Combine(dir, "scan.png"), written);
            Directory.SetLastWriteTimeUtc(dir, written);
            return dir;
        }
        var abandoned = Hidden($"{InboxDrop.StagingPrefix}import-0123.{Guid.NewGuid():N}", longAgo);
        var writing = Hidden($"{InboxDrop.StagingPrefix}import-4567.{Guid.NewGuid():N}", DateTime.UtcNow);
        var someoneElses = Hidden(".partial-upload", longAgo);

        await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.False(Directory.Exists(abandoned));
        Assert.True(File.Exists(Path.Combine(writing, "scan.png")));
        Assert.True(File.Exists(Path.Combine(someoneElses, "scan.png")));
    }

    /// <summary>
    /// Bytes whose move is unfinished (an upload being stored, or one a crash interrupted) are not yet a document: a
    /// folder with the same bytes waits instead of being rejected as its duplicate, and becomes the document, with its
    /// label, once the recovery finds that move's file gone and forgets its row.
    /// </summary>
    [Fact]
    public async Task AFolderWithTheBytesOfAnUnfinishedMoveWaitsAndIsStoredWhenThatMoveIsForgotten()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, _) = Fixtures.First(".tif");
        var id = Sha1(path);
        var store = app.Services.GetRequiredService<DocumentStore>();
        await store.TryAddMovingAsync(Row(id, DocumentIntake.UploadFolder, "scan.tif", ".tif") with { Label = null }, Ct);
        app.Drop("same-bytes", path, "7");

        IngestionSummary first;
        await using (await store.LockEntryAsync(DocumentIntake.UploadFolder, Ct)) // the upload is still being stored
            first = await app.Ingestor.IngestAsync(10, null, Ct);
        var second = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal((0, 0), (first.Accepted, first.Rejected));
        Assert.Equal((1, 0), (second.Accepted, second.Rejected));
        Assert.Equal(("stored", "same-bytes"), (await app.QueryAsync<(string, string)>(
            "SELECT ingest_state, source_folder FROM ingestion.original_documents WHERE id = @id", new { id })).Single());
        Assert.Equal(7, await app.ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id }));
        Assert.Empty(app.InboxEntries());
    }

    /// <summary>
    /// A person's inbox folder named "upload" is nobody else's: the recovery of an interrupted upload (its file already
    /// in raw/) finishes that upload without touching the folder, whose document is then ingested with its label.
    /// </summary>
    [Fact]
    public async Task AnInterruptedUploadsRecoveryLeavesAnInboxFolderNamedUploadAlone()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => d.Path.EndsWith(".tif", StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
        var (uploaded, dropped) = (docs[0].Path, docs[1].Path);
        var uploadId = Sha1(uploaded);
        var row = Row(uploadId, DocumentIntake.UploadFolder, "scan.tif", ".tif") with { Label = null };
        await app.Services.GetRequiredService<DocumentStore>().TryAddMovingAsync(row, Ct);
        var raw = Path.Combine(app.Paths.DataDir, row.FilePath);
        Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
        File.Copy(uploaded, raw);
        app.Drop("upload", dropped, "4");

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal((1, 1), (summary.Recovered, summary.Accepted));
        var droppedId = Sha1(dropped);
        Assert.Equal(4, await app.ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @droppedId", new { droppedId }));
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'stored'"));
        Assert.Empty(app.InboxEntries());
    }

    /// <summary>
    /// Bulk confirmation of a prediction against a colleague's correction of the same document, both at once: the
    /// confirmation waits for the correction being written, sees it and writes nothing; the correction stays current.
    /// </summary>
    [Fact]
    public async Task AConfirmationNeverOverwritesACorrectionWrittenAtTheSameTime()
    {
        await using var app = await IngestionApp.StartAsync();
        var (id, store) = await StoreOneDocumentAsync(app);
        var predictedAt = await app.ScalarAsync<DateTime>("SELECT now()");

        await using (var colleague = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            await colleague.OpenAsync(Ct);
            await using var tx = await colleague.BeginTransactionAsync(Ct);
            await using (var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, 5, 'human', 'colleague')", colleague, tx))
            {
                insert.Parameters.AddWithValue("id", id);
                await insert.ExecuteNonQueryAsync(Ct);
            }
            var confirming = store.ConfirmLabelAsync(id, 2, predictedAt, "reviewer", Ct);
            await Task.Delay(500, Ct);
            Assert.False(confirming.IsCompleted); // waits for the correction being written
            await tx.CommitAsync(Ct);
            Assert.False(await confirming.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        }

        Assert.Equal(("colleague", 5), (await app.QueryAsync<(string, short)>(
            "SELECT created_by, label FROM ingestion.current_labels WHERE document_id = @id", new { id })).Select(r => (r.Item1, (int)r.Item2)).Single());
        // Without a later correction the confirmation is written.
        Assert.True(await store.ConfirmLabelAsync(id, 2, await app.ScalarAsync<DateTime>("SELECT now()"), "reviewer", Ct));
        Assert.Equal(2, await app.ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id }));
    }

    /// <summary>One real page ingested: its id, and the store that labels it.</summary>
    private static async Task<(string Id, DocumentStore Store)> StoreOneDocumentAsync(IngestionApp app)
    {
        var (path, _) = Fixtures.First(".png");
        app.Drop("doc", path);
        await app.Ingestor.IngestAsync(10, null, Ct);
        return (Sha1(path), app.Services.GetRequiredService<DocumentStore>());
    }

    /// <summary>
    /// A correction that waits for the document's lock while a colleague writes a label is dated when it takes the lock, not
    /// when it began: it is written last, so it is the current label (and the label its 201 answered), not the colleague's.
    /// </summary>
    [Fact]
    public async Task ACorrectionThatWaitedForTheDocumentIsCurrentOnceWritten()
    {
        await using var app = await IngestionApp.StartAsync();
        var (id, store) = await StoreOneDocumentAsync(app);

        Task<HumanLabel> correcting;
        await using (var colleague = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            await colleague.OpenAsync(Ct);
            await using var tx = await colleague.BeginTransactionAsync(Ct);
            await using (var hold = new Npgsql.NpgsqlCommand("SELECT 1 FROM ingestion.original_documents WHERE id = @id FOR UPDATE", colleague, tx))
            {
                hold.Parameters.AddWithValue("id", id);
                await hold.ExecuteNonQueryAsync(Ct);
            }
            correcting = store.AddHumanLabelAsync(id, 7, "late", Ct);
            await Task.Delay(500, Ct);
            Assert.False(correcting.IsCompleted); // waits for the colleague's label being written
            await using (var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO ingestion.labels (document_id, label, source, created_by, created_at) VALUES (@id, 5, 'human', 'colleague', clock_timestamp())", colleague, tx))
            {
                insert.Parameters.AddWithValue("id", id);
                await insert.ExecuteNonQueryAsync(Ct);
            }
            await tx.CommitAsync(Ct);
        }
        var written = await correcting.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var current = (await app.QueryAsync<(long, string, short)>(
            "SELECT id, created_by, label FROM ingestion.current_labels WHERE document_id = @id", new { id })).Single();
        Assert.Equal((written.Id, "late", (short)7), current);
    }

    /// <summary>
    /// An upload with a class whose bytes are being stored from another entry at that moment waits for that mover
    /// instead of being deferred (so that its answer says what became of its class): here the mover was interrupted after its rename, so
    /// the upload finishes that move and the known document gets the upload's class.
    /// </summary>
    [Fact]
    public async Task AnUploadWithAClassWaitsForTheOtherMoverOfItsBytesAndKeepsItsClass()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, id) = await MovedByAnotherEntryAsync(app);
        var store = app.Services.GetRequiredService<DocumentStore>();

        Task<IReadOnlyList<IngestionOutcome>> uploading;
        await using (await store.LockEntryAsync("other-entry", Ct)) // the other mover, between its rename and its last statement
        {
            uploading = app.Ingestor.IngestUploadsAsync(app.Ingestor.NewBatchId(),
                [new UploadedFile("scan.tif", async (target, c) => { await using var source = File.OpenRead(path); await source.CopyToAsync(target, c); })],
                new IncomingLabel(4, "reviewer"), Ct);
            await Task.Delay(500, Ct);
            Assert.False(uploading.IsCompleted);
        }
        var outcome = Assert.Single(await uploading.WaitAsync(TimeSpan.FromSeconds(30), Ct));

        Assert.Equal((IngestionOutcomeKind.Rejected, InboxIngestor.DuplicateReason, id), (outcome.Kind, outcome.ReasonCode, outcome.DocumentId));
        Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
        Assert.Equal(("human", 4), (await app.QueryAsync<(string, short)>(
            "SELECT source, label FROM ingestion.current_labels WHERE document_id = @id", new { id })).Select(r => (r.Item1, (int)r.Item2)).Single());
    }

    /// <summary>
    /// An upload with a class whose request ends after its file entered the inbox (here cancelled while it waits for the
    /// other mover of its bytes, as a client that goes away; a process that stops leaves the same) is ingested by the next
    /// run with the class given with it and who gave it; the kept class is then forgotten.
    /// </summary>
    [Fact]
    public async Task AnUploadWhoseRequestEndedInTheInboxIsIngestedLaterWithItsClassAndItsGiver()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, id) = await MovedByAnotherEntryAsync(app);
        var store = app.Services.GetRequiredService<DocumentStore>();

        using var request = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using (await store.LockEntryAsync("other-entry", Ct))
        {
            var uploading = app.Ingestor.IngestUploadsAsync(app.Ingestor.NewBatchId(),
                [new UploadedFile("scan.tif", async (target, c) => { await using var source = File.OpenRead(path); await source.CopyToAsync(target, c); })],
                new IncomingLabel(4, "reviewer"), request.Token);
            // The request ends once its file is in the inbox (it then waits for the other mover).
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (app.InboxEntries().Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20, Ct);
            await Task.Delay(200, Ct);
            await request.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => uploading.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        }
        var entry = Path.GetFileName(Assert.Single(app.InboxEntries()));
        Assert.False(File.Exists(Path.Combine(app.Paths.Inbox, entry, "label.txt")));

        var outcomes = new List<IngestionOutcome>();
        await app.Ingestor.IngestAsync(10, new Collect(outcomes), Ct);

        var outcome = Assert.Single(outcomes);
        Assert.Equal((entry, IngestionOutcomeKind.Rejected, InboxIngestor.DuplicateReason), (outcome.Folder, outcome.Kind, outcome.ReasonCode));
        Assert.Equal(("human", (short)4, "reviewer"), Assert.Single(await app.QueryAsync<(string, short, string)>(
            "SELECT source, label, created_by FROM ingestion.labels WHERE document_id = @id", new { id })));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.upload_labels"));
    }

    /// <summary>A class kept for an upload's entry that has left the inbox (ingested while the class could not be
    /// forgotten, or removed by an operator) is forgotten once a day old; one whose entry still waits is kept.</summary>
    [Fact]
    public async Task AClassKeptForAnUploadWhoseEntryLeftTheInboxIsForgottenOnceADayOld()
    {
        await using var app = await IngestionApp.StartAsync();
        var store = app.Services.GetRequiredService<DocumentStore>();
        var (path, _) = Fixtures.First(".png");
        foreach (var folder in new[] { "upload-20260101-000000-abcdef-0000", "upload-20260101-000000-abcdef-0001", "upload-20260101-000000-abcdef-0002" })
            await store.AddUploadLabelAsync(folder, new IncomingLabel(3, "reviewer"), Ct);
        var waiting = Directory.CreateDirectory(Path.Combine(app.Paths.Inbox, "upload-20260101-000000-abcdef-0001")).FullName;
        File.WriteAllText(Path.Combine(waiting, "scan.png"), "not yet a scan"); // rejected if ingested: kept from this run by a lock
        await app.ScalarAsync<int>("UPDATE ingestion.upload_labels SET created_at = now() - interval '25 hours' WHERE folder <> 'upload-20260101-000000-abcdef-0002'");

        await using (await store.LockEntryAsync("upload-20260101-000000-abcdef-0001", Ct))
            await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(["upload-20260101-000000-abcdef-0001", "upload-20260101-000000-abcdef-0002"],
            await app.QueryAsync<string>("SELECT folder FROM ingestion.upload_labels ORDER BY folder"));
    }

    /// <summary>An unlabelled TIFF whose move from the inbox entry <c>other-entry</c> was interrupted after its rename (its
    /// row 'moving', its file in raw/); returns the original's path and the document's id.</summary>
    private static async Task<(string Path, string Id)> MovedByAnotherEntryAsync(IngestionApp app)
    {
        var (path, _) = Fixtures.First(".tif");
        var row = Row(Sha1(path), "other-entry", "scan.tif", ".tif") with { Label = null };
        await app.Services.GetRequiredService<DocumentStore>().TryAddMovingAsync(row, Ct);
        var raw = Path.Combine(app.Paths.DataDir, row.FilePath);
        Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
        File.Copy(path, raw);
        return (path, row.Id);
    }

    /// <summary>A labelled TIFF dropped into <paramref name="folder"/> and its row recorded 'moving', as ingestion leaves them
    /// just before the move into raw/; returns the original, its inbox copy and its path in raw/ (folder created).</summary>
    private static async Task<(string Path, string InboxCopy, string Raw)> RowRecordedBeforeTheMoveAsync(IngestionApp app, string folder)
    {
        var (path, _) = Fixtures.First(".tif");
        var inboxCopy = app.Drop(folder, path, "4");
        var row = Row(Sha1(path), folder, Path.GetFileName(path), ".tif");
        await app.Services.GetRequiredService<DocumentStore>().TryAddMovingAsync(row, Ct);
        var raw = Path.Combine(app.Paths.DataDir, row.FilePath);
        Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
        return (path, inboxCopy, raw);
    }
}
