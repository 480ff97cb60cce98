using System.Net;
using System.Net.Http.Json;
using Dapper;
using Dsdc.Auth;
using Dsdc.Ingestion;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Npgsql;

namespace Dsdc.Tests.Api;

/// <summary>
/// <c>DELETE /api/v1/documents/{id}</c>: a document leaves with its files and everything derived from it, not while a
/// pipeline stage works on it, and a deletion a crash interrupted is finished by the next ingestion run or by the same
/// file arriving again.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class DocumentDeletionTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Every table that holds a row of a document's own, with its document column.</summary>
    private static readonly string[] DerivedTables =
    [
        "ingestion.original_documents WHERE id", "ingestion.labels WHERE document_id", "training.splits WHERE document_id",
        "pipeline.raw_texts WHERE document_id", "pipeline.processed_texts WHERE document_id", "pipeline.processed_images WHERE document_id",
        "pipeline.stage_failures WHERE document_id", "embedding.embeddings WHERE document_id", "embedding.page_features WHERE document_id",
        "embedding.page_feature_failures WHERE document_id",
        "inference.predictions WHERE document_id", "inference.latest_predictions WHERE document_id",
    ];

    /// <summary>A new stored document, classified once: a blank page of a size no other test uses.</summary>
    private static async Task<(string Id, byte[] Bytes)> NewDocumentAsync(HttpClient client, int width)
    {
        var bytes = Fixtures.PngBlankPage(width, 457 + Random.Shared.Next(300));
        using var response = await client.PredictAsync(ApiRequests.File(bytes, "to-delete.png"));
        var body = await ApiRequests.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return (body.GetProperty("documentId").GetString()!, bytes);
    }

    private async Task<long> RowsOfAsync(string id)
    {
        long rows = 0;
        foreach (var table in DerivedTables) rows += await app.ScalarAsync<long>($"SELECT count(*) FROM {table} = @id", new { id });
        return rows;
    }

    /// <summary>The document's files: its original and its processed pages.</summary>
    private async Task<List<string>> FilesOfAsync(string id)
    {
        var files = await app.QueryAsync<string>(
            "SELECT file_path FROM ingestion.original_documents WHERE id = @id UNION ALL SELECT file_path FROM pipeline.processed_images WHERE document_id = @id",
            new { id });
        return files.Select(f => Path.Combine(app.DataDir, f)).ToList();
    }

    private static Task<HttpResponseMessage> DeleteAsync(HttpClient client, string id) => client.DeleteAsync($"/api/v1/documents/{id}", Ct);

    /// <summary>The settings a command run as its own process needs to reach this app's database and folders.</summary>
    private Dictionary<string, string?> CommandEnvironment() => new()
    {
        ["ConnectionStrings__Dsdc"] = app.Database.ConnectionString,
        ["Dsdc__DataDir"] = app.DataDir,
        ["Dsdc__ModelsDir"] = app.ModelsDir,
        ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
    };

    [Fact]
    public async Task ADeletedDocumentLeavesWithItsFilesAndEverythingDerivedFromItAndMayArriveAgainAsNew()
    {
        using var user = await app.CreateClientWithRoleAsync(Roles.User);
        var admin = $"model-admin-{Guid.NewGuid():N}"[..24];
        using var modelAdmin = app.CreateClient();
        modelAdmin.DefaultRequestHeaders.Authorization = new("Bearer", await modelAdmin.GetTokenAsync(admin, await app.CreateUserAsync(admin, Roles.ModelAdmin)));
        var (id, bytes) = await NewDocumentAsync(user, 631);
        using (var labelled = await user.PostAsJsonAsync($"/api/v1/documents/{id}/label", new { label = 4 }, Ct))
            Assert.Equal(HttpStatusCode.Created, labelled.StatusCode);
        var files = await FilesOfAsync(id);
        Assert.Equal(2, files.Count);
        Assert.All(files, f => Assert.True(File.Exists(f), f));
        // A page of an older processor version beside the current one goes too; another document's page in the same folder stays.
        var folder = Path.GetDirectoryName(files[1])!;
        var older = Path.Combine(folder, $"{id}.an-older-processor-1.png");
        var neighbour = Path.Combine(folder, $"{id[..39]}{(id[39] == '0' ? '1' : '0')}.some-processor-1.png");
        await File.WriteAllBytesAsync(older, [1, 2, 3], Ct);
        await File.WriteAllBytesAsync(neighbour, [1, 2, 3], Ct);
        var rowsBefore = await RowsOfAsync(id);
        Assert.True(rowsBefore >= 7, $"{rowsBefore} rows of the document before its deletion");

        // A user may label documents, not delete them.
        using (var forbidden = await DeleteAsync(user, id)) Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(rowsBefore, await RowsOfAsync(id));

        using (var deleted = await DeleteAsync(modelAdmin, id)) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(0, await RowsOfAsync(id));
        Assert.All(files.Append(older), f => Assert.False(File.Exists(f), f));
        Assert.True(File.Exists(neighbour));
        File.Delete(neighbour);
        var record = Assert.Single(await app.QueryAsync<(string DeletedBy, DateTime? FinishedAt)>(
            "SELECT deleted_by, finished_at FROM ingestion.deletions WHERE document_id = @id", new { id }));
        Assert.Equal(admin, record.DeletedBy);
        Assert.NotNull(record.FinishedAt);
        using (var gone = await user.GetAsync($"/api/v1/documents/{id}", Ct)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var again = await DeleteAsync(modelAdmin, id))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
            Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        }

        // The same file sent again is a new document, stored and classified from scratch.
        using var resent = await user.PredictAsync(ApiRequests.File(bytes, "again.png"));
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        Assert.Equal(id, (await ApiRequests.JsonAsync(resent)).GetProperty("documentId").GetString());
        Assert.Equal("again.png", await app.ScalarAsync<string>(
            "SELECT original_name FROM ingestion.original_documents WHERE id = @id AND ingest_state = 'stored'", new { id }));
        Assert.All(await FilesOfAsync(id), f => Assert.True(File.Exists(f), f));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id", new { id }));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM inference.predictions WHERE document_id = @id", new { id }));
    }

    [Fact]
    public async Task ADocumentAStageHoldsIsRefusedWithRetryAfterUntilTheStageLetsItGo()
    {
        using var modelAdmin = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);
        var (id, _) = await NewDocumentAsync(modelAdmin, 643);
        var files = await FilesOfAsync(id);

        // The OCR stage's claim on the document, as a worker holds it while it reads the page.
        await using (var worker = new NpgsqlConnection(app.Database.ConnectionString))
        {
            await worker.OpenAsync(Ct);
            Assert.True(await worker.ExecuteScalarAsync<bool>(
                "SELECT pg_try_advisory_lock(1146290178, (('x' || substr(@id, 1, 8))::bit(32)::int & 2147483647))", new { id }));
            using var busy = await DeleteAsync(modelAdmin, id);
            Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
            Assert.Equal("30", busy.Headers.RetryAfter?.ToString());
            Assert.Equal("in-use", (await ApiRequests.JsonAsync(busy)).GetProperty("reason").GetString());
            using var stillThere = await modelAdmin.GetAsync($"/api/v1/documents/{id}", Ct);
            Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
            Assert.All(files, f => Assert.True(File.Exists(f), f));
            Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.deletions WHERE document_id = @id", new { id }));
            // Released as a stage releases its claims (a pooled connection keeps its session, and so its locks).
            await worker.ExecuteAsync("SELECT pg_advisory_unlock_all()");
        }

        using var deleted = await DeleteAsync(modelAdmin, id);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(0, await RowsOfAsync(id));
    }

    [Fact]
    public async Task ADocumentStillBeingStoredIsRefusedWithRetryAfter()
    {
        using var modelAdmin = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);
        var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Guid.NewGuid().ToByteArray()));
        var store = app.Get<DocumentStore>();
        Assert.True(await store.TryAddMovingAsync(new NewDocument(id, "moving.png", "moving", Path.Combine("raw", id[..1], id[1..2], id + ".png"),
            "image/png", 100, 1, 10, 10, null), Ct));
        try
        {
            using var busy = await DeleteAsync(modelAdmin, id);
            Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
            Assert.NotNull(busy.Headers.RetryAfter);
            Assert.Equal("being-stored", (await ApiRequests.JsonAsync(busy)).GetProperty("reason").GetString());
            Assert.Equal("moving", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
        }
        finally
        {
            await store.DeleteMovingAsync(id, Ct);
        }
    }

    /// <summary><c>documents delete ID...</c> on the server: one line per id, exit 1 when one was unknown, 2 for an id that is
    /// not one (nothing deleted then).</summary>
    [Fact]
    public async Task TheCommandLineDeletesDocumentsByTheirIds()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (id, _) = await NewDocumentAsync(client, 673);
        var unknown = new string('a', 40);
        var environment = CommandEnvironment();

        var wrong = await AppProcess.RunAsync(["documents", "delete", id, "not-an-id"], environment);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("'not-an-id' is not a document id", wrong.StdErr + wrong.StdOut);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.documents WHERE id = @id", new { id }));

        var run = await AppProcess.RunAsync(["documents", "delete", id.ToUpperInvariant(), unknown], environment);
        Assert.True(run.ExitCode == 1, run.StdErr);
        Assert.Contains($"{id} deleted\n", run.StdOut);
        Assert.Contains($"{unknown} unknown: no stored document has this id", run.StdOut);
        Assert.Equal(0, await RowsOfAsync(id));
        Assert.EndsWith("(command line)", await app.ScalarAsync<string>("SELECT deleted_by FROM ingestion.deletions WHERE document_id = @id", new { id }));
    }

    /// <summary>A deletion whose files cannot all be removed now (here a record naming a path outside the data folder) leaves
    /// the document hidden for good and answers 202; the next ingestion run tries again.</summary>
    [Fact]
    public async Task ADeletionWhoseFilesCannotBeRemovedNowLeavesTheDocumentHiddenAndAnswers202()
    {
        using var modelAdmin = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);
        var (id, bytes) = await NewDocumentAsync(modelAdmin, 667);
        var stored = await app.ScalarAsync<string>("SELECT file_path FROM ingestion.original_documents WHERE id = @id", new { id });
        var original = Path.Combine(app.DataDir, stored);
        await app.ScalarAsync<int>("UPDATE ingestion.original_documents SET file_path = '../elsewhere.png' WHERE id = @id RETURNING 1", new { id });

        using (var accepted = await DeleteAsync(modelAdmin, id))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var body = await ApiRequests.JsonAsync(accepted);
            Assert.Equal(("deleting", id), (body.GetProperty("status").GetString(), body.GetProperty("documentId").GetString()));
        }
        using (var hidden = await modelAdmin.GetAsync($"/api/v1/documents/{id}", Ct)) Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal("deleting", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
        await app.Get<InboxIngestor>().IngestAsync(10, null, Ct); // still refused: the run goes on
        Assert.Equal("deleting", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
        // The same bytes uploaded meanwhile cannot become a new document at the path of a file still going: 409, nothing kept.
        var uploads = Path.Combine(app.DataDir, ".uploads");
        using (var resent = await modelAdmin.PredictAsync(ApiRequests.File(bytes, "again.png")))
        {
            var problem = await ApiRequests.JsonAsync(resent);
            Assert.True(resent.StatusCode == HttpStatusCode.Conflict, problem.ToString());
            Assert.Equal("being-deleted", problem.GetProperty("reason").GetString());
            Assert.Contains(id, problem.GetProperty("detail").GetString());
            Assert.NotNull(resent.Headers.RetryAfter);
        }
        // And on the classify page: said on the page, with the same status.
        var name = $"del-{Guid.NewGuid():N}"[..20];
        var password = await app.CreateUserAsync(name, Roles.User);
        using (var browser = app.CreateClient()) // keeps cookies, as a browser does
        {
            await browser.LogInWithCookieAsync(name, password);
            var form = new MultipartFormDataContent
            {
                { new StringContent(await Hardening.HardeningRequests.FormTokenAsync(browser, "/classify")), "__RequestVerificationToken" },
            };
            form.Add(new ByteArrayContent(bytes), "Upload", "again.png");
            using var page = await browser.PostAsync("/classify", form, Ct);
            var html = await page.Content.ReadAsStringAsync(Ct);
            Assert.True(page.StatusCode == HttpStatusCode.Conflict, $"{(int)page.StatusCode}: {html[..Math.Min(300, html.Length)]}");
            Assert.Contains("is being deleted and its deletion cannot be finished now", html);
        }
        Assert.Empty(Directory.EnumerateFiles(uploads));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM inference.predictions WHERE document_id = @id", new { id }));
        Assert.Equal("deleting", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));

        // The record put right, the next run finishes the deletion.
        await app.ScalarAsync<int>("UPDATE ingestion.original_documents SET file_path = @stored WHERE id = @id RETURNING 1", new { id, stored });
        await app.Get<InboxIngestor>().IngestAsync(10, null, Ct);
        Assert.Equal(0, await RowsOfAsync(id));
        Assert.False(File.Exists(original));
    }

    /// <summary>The jobs that take no claim (vectors, page features, new documents' predictions, the training split) may
    /// have read a document just before it was deleted: what they then store of it is dropped, not failed on (a foreign key
    /// error would fail their whole batch), whether the document is still hidden or gone.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WhatTheJobsComputeOfADocumentDeletedMeanwhileIsDroppedNotFailedOn(bool gone)
    {
        using var modelAdmin = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);
        var (id, _) = await NewDocumentAsync(modelAdmin, gone ? 659 : 697);
        var (imageId, textId) = Assert.Single(await app.QueryAsync<(long, long)>(
            "SELECT processed_image_id, processed_text_id FROM embedding.embeddings WHERE document_id = @id", new { id }));
        await app.ScalarAsync<int>("DELETE FROM embedding.embeddings WHERE document_id = @id RETURNING 1", new { id });
        await app.ScalarAsync<int>("DELETE FROM training.splits WHERE document_id = @id RETURNING 1", new { id });
        if (gone)
        {
            using var deleted = await DeleteAsync(modelAdmin, id);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        else
            await app.Get<DocumentStore>().StartDeletionAsync(id, "someone", (_, _, _) => Task.FromResult(true), Ct);

        var embeddings = app.Get<Dsdc.Embedding.EmbeddingStore>();
        Assert.Equal(0, await embeddings.AddAsync([new Dsdc.Embedding.NewEmbedding(id, imageId, textId, "an-encoder", "1", 3, new Pgvector.Vector(new float[] { 1, 2, 3 }))], Ct, storedOnly: true));
        Assert.False(await embeddings.AddFeaturesAsync(id, "regions", "1", [1, 2, 3], Ct, storedOnly: true));
        await embeddings.RecordFeatureFailureAsync(id, "regions", "1", "IOException: the file is gone", Ct);
        var classification = new Dsdc.Inference.Classification(3, "letter", Enumerable.Repeat(1f / 16, 16).ToArray(), 0.2, 0.2, "a-model", app.ChampionRunId,
            new Dictionary<string, double>());
        Assert.Null(await app.Get<Dsdc.Inference.Api.PredictionStore>().RecordIfUnlabelledAsync(id, "dsdc", classification, 5, Ct));
        await app.Get<Dsdc.Training.TrainingStore>().AddSplitAsync([new Dsdc.Training.SplitAssignment(id, 3, "train")], 42, Ct);
        if (!gone)
        {
            // Hidden, its row still there: nothing was added to it.
            Task<long> Count(string sql) => app.ScalarAsync<long>(sql, new { id });
            Assert.Equal(0L, await Count("SELECT count(*) FROM embedding.embeddings WHERE document_id = @id"));
            Assert.Equal(0L, await Count("SELECT count(*) FROM embedding.page_features WHERE document_id = @id AND version = '1'"));
            Assert.Equal(0L, await Count("SELECT count(*) FROM embedding.page_feature_failures WHERE document_id = @id"));
            Assert.Equal(1L, await Count("SELECT count(*) FROM inference.predictions WHERE document_id = @id"));
            Assert.Equal(0L, await Count("SELECT count(*) FROM training.splits WHERE document_id = @id"));
            await app.Get<InboxIngestor>().IngestAsync(10, null, Ct);
        }
        Assert.Equal(0, await RowsOfAsync(id));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM embedding.page_feature_failures WHERE document_id = @id", new { id }));
    }

    /// <summary>The process stops right after a document is hidden for its deletion, before its files went: it is gone from
    /// every reader at once, and the next ingestion run, or the same file uploaded again, finishes the deletion.</summary>
    [Fact]
    public async Task ADeletionThatStoppedHalfwayIsFinishedByTheNextIngestionRunOrByTheSameFileArriving()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (first, _) = await NewDocumentAsync(client, 647);
        var (second, secondBytes) = await NewDocumentAsync(client, 683);
        var store = app.Get<DocumentStore>();
        var firstFiles = await FilesOfAsync(first);
        var secondFiles = await FilesOfAsync(second);
        foreach (var id in new[] { first, second })
            Assert.Equal(DocumentStore.DeletionStart.Started,
                (await store.StartDeletionAsync(id, "someone", (_, _, _) => Task.FromResult(true), Ct)).Start);

        using (var hidden = await client.GetAsync($"/api/v1/documents/{first}", Ct)) Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        using (var similarToIt = await client.GetAsync($"/api/v1/documents/{first}/similar", Ct))
            Assert.Equal(HttpStatusCode.NotFound, similarToIt.StatusCode);
        var firstPrediction = await app.ScalarAsync<long>("SELECT id FROM inference.predictions WHERE document_id = @first", new { first });
        Assert.Null(await app.Get<Dsdc.Inference.Api.PredictionStore>().FindAsync(firstPrediction, Ct)); // its prediction's page: 404
        Assert.Null(await app.Get<Dsdc.Pipeline.PageImages>().ThumbnailPngAsync(first, Ct));
        Assert.Null(await app.Get<Dsdc.Pipeline.PageImages>().PagePngAsync(first, Ct));
        // Another blank page's neighbours: the hidden blank pages are not among them.
        var (third, _) = await NewDocumentAsync(client, 691);
        using (var similar = await client.GetAsync($"/api/v1/documents/{third}/similar?k=50", Ct))
        {
            var neighbours = (await ApiRequests.JsonAsync(similar)).EnumerateArray().Select(n => n.GetProperty("documentId").GetString()).ToList();
            Assert.NotEmpty(neighbours);
            Assert.DoesNotContain(first, neighbours);
            Assert.DoesNotContain(second, neighbours);
        }
        using (var label = await client.PostAsJsonAsync($"/api/v1/documents/{first}/label", new { label = 2 }, Ct))
            Assert.Equal(HttpStatusCode.NotFound, label.StatusCode);
        Assert.All(firstFiles.Concat(secondFiles), f => Assert.True(File.Exists(f), f));

        // The second document's file arrives again by upload: its deletion ends first, then it is a new document.
        using (var resent = await client.PredictAsync(ApiRequests.File(secondBytes, "second.png")))
            Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id = second }));
        Assert.All(await FilesOfAsync(second), f => Assert.True(File.Exists(f), f));
        // Only the new document's rows: the first one's prediction went with it.
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM inference.predictions WHERE document_id = @id", new { id = second }));
        Assert.NotNull(await app.ScalarAsync<DateTime?>("SELECT finished_at FROM ingestion.deletions WHERE document_id = @id", new { id = second }));

        // The next ingestion run finishes the first.
        await app.Get<InboxIngestor>().IngestAsync(10, null, Ct);
        Assert.Equal(0, await RowsOfAsync(first));
        Assert.All(firstFiles, f => Assert.False(File.Exists(f), f));
        Assert.NotNull(await app.ScalarAsync<DateTime?>("SELECT finished_at FROM ingestion.deletions WHERE document_id = @id", new { id = first }));
    }

    /// <summary><c>import</c> lists the stored documents first and labels the unlabelled ones after: one deleted in between
    /// (here hidden while import waits for its row) is not stored any more, so its file is imported as a new document
    /// instead of failing the command.</summary>
    [Fact]
    public async Task ADocumentDeletedWhileImportLabelsItIsImportedAgainAsNew()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (id, bytes) = await NewDocumentAsync(client, 629);
        var archive = Directory.CreateTempSubdirectory("dsdc-import-race-").FullName;
        var inboxEntry = Path.Combine(app.Get<Dsdc.Shared.DsdcPaths>().Inbox, "import-" + id);
        try
        {
            Directory.CreateDirectory(Path.Combine(archive, "2_email"));
            await File.WriteAllBytesAsync(Path.Combine(archive, "2_email", "page.png"), bytes, Ct);
            var environment = CommandEnvironment();
            await using var holder = new NpgsqlConnection(app.Database.ConnectionString);
            await holder.OpenAsync(Ct);
            Task<AppProcess.Result> import;
            await using (var tx = await holder.BeginTransactionAsync(Ct))
            {
                // The document's row locked: import lists it as stored, then waits for the lock to label it.
                await holder.ExecuteAsync("SELECT 1 FROM ingestion.original_documents WHERE id = @id FOR UPDATE", new { id }, tx);
                import = AppProcess.RunAsync(["import", archive], environment, timeout: TimeSpan.FromMinutes(2));
                var waited = System.Diagnostics.Stopwatch.StartNew();
                // Asked on a connection of its own: a transaction sees one snapshot of pg_stat_activity.
                while (await app.ScalarAsync<long>(
                           "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%ingest_state <> ''deleting'' FOR UPDATE%'") == 0)
                {
                    if (import.IsCompleted)
                    {
                        var early = await import;
                        Assert.Fail($"import ended without waiting for the document's row: {early.StdOut} {early.StdErr}");
                    }
                    Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), "import never waited for the document's row");
                    await Task.Delay(50, Ct);
                }
                await holder.ExecuteAsync("UPDATE ingestion.original_documents SET ingest_state = 'deleting' WHERE id = @id", new { id }, tx);
                await tx.CommitAsync(Ct);
            }
            var run = await import;
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.Contains("Imported 1 document(s)", run.StdOut);
            Assert.True(File.Exists(Path.Combine(inboxEntry, "page.png")), run.StdOut);
            Assert.Equal("2", (await File.ReadAllTextAsync(Path.Combine(inboxEntry, "label.txt"), Ct)).Trim());
        }
        finally
        {
            if (Directory.Exists(inboxEntry)) Directory.Delete(inboxEntry, recursive: true);
            Directory.Delete(archive, recursive: true);
            await app.Get<DocumentDeletion>().FinishInterruptedAsync(Ct);
        }
        Assert.Equal(0, await RowsOfAsync(id));
    }

    /// <summary><c>Ingestion:KeepUnlabelledUploadsDays</c>: a document sent only to be classified that nobody labelled goes
    /// once its bytes were last sent longer ago than that, as a deletion does; one labelled, one that also arrived by the
    /// inbox, one that came by the inbox only, one sent again since, and a recent one stay; off (0) nothing goes.</summary>
    [Fact]
    public async Task UploadsNobodyLabelledAreDeletedOnceOlderThanTheRetentionAndNoOtherDocument()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (expired, _) = await NewDocumentAsync(client, 601);
        var (labelled, _) = await NewDocumentAsync(client, 607);
        var (alsoInbox, _) = await NewDocumentAsync(client, 613);
        var (inboxOnly, _) = await NewDocumentAsync(client, 617);
        var (recent, _) = await NewDocumentAsync(client, 619);
        var (sentAgain, sentAgainBytes) = await NewDocumentAsync(client, 587);
        var old = new[] { expired, labelled, alsoInbox, inboxOnly, sentAgain };
        await app.ScalarAsync<int>("UPDATE ingestion.original_documents SET uploaded_at = now() - interval '8 days' WHERE id = ANY(@old) RETURNING 1",
            new { old });
        await app.ScalarAsync<int>("UPDATE ingestion.original_documents SET uploaded_at = now() - interval '6 days' WHERE id = @recent RETURNING 1",
            new { recent });
        using (var again = await client.PredictAsync(ApiRequests.File(sentAgainBytes, "again.png")))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await app.ScalarAsync<int>("UPDATE ingestion.original_documents SET source_folder = 'scans-2026' WHERE id = @inboxOnly RETURNING 1", new { inboxOnly });
        await app.ScalarAsync<int>("""
            INSERT INTO ingestion.rejected_documents (source_folder, file_name, sha1, reason_code, reason, rejected_path)
            VALUES ('scans-2026', 'copy.png', @alsoInbox, 'duplicate', 'duplicate of a known document', @path) RETURNING 1
            """, new { alsoInbox, path = $"rejected/retention-{Guid.NewGuid():N}" });
        using (var label = await client.PostAsJsonAsync($"/api/v1/documents/{labelled}/label", new { label = 4 }, Ct))
            Assert.Equal(HttpStatusCode.Created, label.StatusCode);
        var expiredFiles = await FilesOfAsync(expired);
        var retention = app.Get<UploadRetention>();

        Assert.Equal(0, await retention.SweepIfDueAsync(Ct)); // off by default
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.documents WHERE id = @expired", new { expired }));

        var countedBefore = IngestionMetrics.Deletions.WithLabels("retention").Value;
        var (found, deleted) = await retention.SweepAsync(7, Ct);
        Assert.True(found >= 1 && deleted >= 1, $"{found} found, {deleted} deleted");
        Assert.Equal(deleted, IngestionMetrics.Deletions.WithLabels("retention").Value - countedBefore); // dsdc_documents_deleted_total
        Assert.Equal(0, await RowsOfAsync(expired));
        Assert.All(expiredFiles, f => Assert.False(File.Exists(f), f));
        Assert.Equal(UploadRetention.DeletedBy,
            await app.ScalarAsync<string>("SELECT deleted_by FROM ingestion.deletions WHERE document_id = @expired", new { expired }));
        foreach (var kept in new[] { labelled, alsoInbox, inboxOnly, recent, sentAgain })
            Assert.True(await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.documents WHERE id = @kept", new { kept }) == 1, kept);
        // The deletion itself checks again, in its transaction, once it holds the row: what a sweep listed a moment before
        // and was labelled or sent again since is kept.
        var deletion = app.Get<DocumentDeletion>();
        foreach (var kept in new[] { labelled, sentAgain })
            Assert.Null(await deletion.DeleteExpiredUploadAsync(kept, UploadRetention.DeletedBy, 7, Ct));
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.documents WHERE id IN (@labelled, @sentAgain)",
            new { labelled, sentAgain }));

        using var modelAdmin = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);
        foreach (var id in new[] { labelled, alsoInbox, inboxOnly, recent, sentAgain })
            using (var gone = await DeleteAsync(modelAdmin, id)) Assert.Equal(HttpStatusCode.NoContent, gone.StatusCode);
    }
}
