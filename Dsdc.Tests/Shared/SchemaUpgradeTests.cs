using Dapper;
using Dsdc.Embedding;
using Dsdc.Inference.Api;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared.Database;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pgvector;

namespace Dsdc.Tests.Shared;

/// <summary>
/// A database as the release before the module schemas left it (migrated up to 0011, lineage in <c>public</c>) keeps
/// every row when it is upgraded, and the modules' queries read the rows in their new schemas.
/// </summary>
public sealed class SchemaUpgradeTests
{
    private const string LastBeforeSchemas = "0011_prediction_review";
    private static readonly string DocA = new('a', 40);
    private static readonly string DocB = new('b', 40);

    private static readonly (string Before, string After)[] Tables =
    [
        ("public.original_documents", "ingestion.original_documents"),
        ("public.labels", "ingestion.labels"),
        ("public.rejected_documents", "ingestion.rejected_documents"),
        ("public.raw_texts", "pipeline.raw_texts"),
        ("public.processed_texts", "pipeline.processed_texts"),
        ("public.processed_images", "pipeline.processed_images"),
        ("public.stage_failures", "pipeline.stage_failures"),
        ("public.embeddings", "embedding.embeddings"),
        ("public.page_features", "embedding.page_features"),
        ("training.splits", "training.splits"),
        ("training.runs", "training.runs"),
        ("training.epochs", "training.epochs"),
        ("training.promotions", "training.promotions"),
        ("training.jobs", "training.jobs"),
        ("inference.predictions", "inference.predictions"),
        ("auth.users", "auth.users"),
        ("hangfire.job", "hangfire.job"),
    ];

    /// <summary>0015: the OCR failures of text layers holding U+0000 (PostgreSQL error 22021) are forgotten, so the stage,
    /// which now drops those characters, reads such documents again; other failures stay.</summary>
    [Fact]
    public async Task TheUpgradeForgetsTheFailuresOfTextLayersHoldingNul()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync();
        await using var dataSource = new NpgsqlDataSourceBuilder(db.ConnectionString).Build();
        var runner = new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance);
        await runner.MigrateAsync("0014_page_feature_failures", ct);
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
            await conn.ExecuteAsync("""
                INSERT INTO ingestion.original_documents (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height)
                VALUES (@DocA, 'a.pdf', 'in', 'raw/a/a/a.pdf', 'application/pdf', 100, 1, 612, 792),
                       (@DocB, 'b.tif', 'in', 'raw/b/b/b.tif', 'image/tiff', 100, 1, 754, 1000);
                INSERT INTO pipeline.stage_failures (document_id, stage, processor_version, attempts, error) VALUES
                    (@DocA, 'ocr', '5', 3, 'PostgresException: 22021: invalid byte sequence for encoding "UTF8": 0x00'),
                    (@DocB, 'ocr', '5', 3, 'InvalidDocumentException: the TIFF is truncated');
                """, new { DocA, DocB });

        await runner.MigrateAsync(null, ct);

        await using var check = await dataSource.OpenConnectionAsync(ct);
        Assert.Equal([DocB], await check.QueryAsync<string>("SELECT document_id FROM pipeline.stage_failures"));
    }

    [Fact]
    public async Task ADatabaseAtTheLastSchemaBeforeModuleSchemasUpgradesAndKeepsEveryRow()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync();
        var builder = new NpgsqlDataSourceBuilder(db.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        DatabaseModule.ConfigureDapper();
        var runner = new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance);

        var applied = await runner.MigrateAsync(LastBeforeSchemas, ct);
        Assert.Equal(LastBeforeSchemas, applied[^1]);
        Assert.Contains("0012_module_schemas", await runner.PendingAsync(ct));
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
            await SeedAsync(conn);
        var before = await CountsAsync(dataSource, Tables.Select(t => t.Before), ct);
        Assert.All(before, c => Assert.True(c > 0));

        await runner.MigrateAsync(ct);

        Assert.Empty(await runner.PendingAsync(ct));
        Assert.Equal(before, await CountsAsync(dataSource, Tables.Select(t => t.After), ct));
        await using var check = await dataSource.OpenConnectionAsync(ct);
        foreach (var (old, _) in Tables.Where(t => t.Before.StartsWith("public.", StringComparison.Ordinal)))
            Assert.Null(await check.ExecuteScalarAsync<string?>("SELECT to_regclass(@old)::text", new { old }));

        // The modules read the moved rows through their own queries and the published views.
        var ingestion = new IngestionQueries(dataSource);
        Assert.Equal("a.tif", (await ingestion.DocumentAsync(DocA, ct))!.OriginalName);
        Assert.Null(await ingestion.DocumentAsync(DocB, ct)); // still moving: not a stored document
        var current = await ingestion.CurrentLabelAsync(DocA, ct);
        Assert.Equal((short)7, current!.Label); // the human label beats the dataset's
        Assert.Equal("human", current.Source);
        Assert.Equal(2, (await ingestion.LabelsAsync(DocA, ct)).Count);

        var stages = Assert.Single(await new DocumentProgress(dataSource).StagesAsync([DocA], ct));
        Assert.True(stages.Done);
        Assert.Equal("ocr", stages.FailedStage);
        Assert.Equal("raw words", Assert.Single((await new DocumentProgress(dataSource).LineageAsync(DocA, ct)).RawTexts).Text);
        Assert.Equal(896, Assert.Single(await new EmbeddingStore(dataSource).ForDocumentAsync(DocA, ct)).Dimensions);

        var labelled = Assert.Single(await new TrainingStore(dataSource).LabelledDocumentsAsync("resnet18-minilm", "1", withText: true, ct, regionsVersion: "1"));
        Assert.Equal(7, labelled.Example.Label);
        Assert.Equal("clean words", labelled.Text);
        Assert.Equal("raw words", labelled.RawText);
        Assert.Equal("processed/a/a/a.png", labelled.ImagePath);
        Assert.Equal(4, labelled.Regions!.Length);
        var store = new TrainingStore(dataSource);
        var runId = await check.ExecuteScalarAsync<long>("SELECT id FROM training.runs");
        Assert.Equal(runId, ChampionHistory.Champion(await store.PromotionsAsync(ct)));

        var predictions = new PredictionStore(dataSource, new DocumentStore(dataSource));
        var predictionId = await check.ExecuteScalarAsync<long>("SELECT id FROM inference.predictions");
        Assert.Equal(DocA, (await predictions.FindAsync(predictionId, ct))!.DocumentId);
        // The stored prediction became its document's latest (0013), which the review queue reads.
        Assert.Equal(new Dictionary<string, int> { [DocA] = await check.ExecuteScalarAsync<int>("SELECT label FROM inference.predictions") },
            await new Dsdc.Inference.Review.ReviewQueue(dataSource).PredictedClassesAsync([DocA], ct));

        // Identity sequences moved with their tables: a new row follows the old ones.
        var label = await predictions.AddHumanLabelAsync(DocA, 3, "alice", ct);
        Assert.True(label.Id > await check.ExecuteScalarAsync<long>("SELECT max(id) FROM ingestion.labels WHERE id <> @Id", new { label.Id }));

        // The HNSW index moved with the embeddings and still serves the similar-document query.
        var indexes = (await check.QueryAsync<string>("SELECT indexname FROM pg_indexes WHERE schemaname = 'embedding'")).ToList();
        Assert.Contains("embeddings_resnet18_minilm_hnsw_idx", indexes);
        await using (var tx = await check.BeginTransactionAsync(ct))
        {
            await check.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: tx);
            var plan = string.Join('\n', await check.QueryAsync<string>("EXPLAIN " + SimilarDocumentSearch.SimilarSql(896),
                new { query = new Vector(Unit(896)), encoder = "resnet18-minilm", version = "1", exclude = (string?)null, k = 5 }, tx));
            Assert.Contains("embeddings_resnet18_minilm_hnsw_idx", plan);
        }

        // The current-label view, joined per document, reads only that document's labels through their index.
        await using (var tx = await check.BeginTransactionAsync(ct))
        {
            await check.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: tx);
            var plan = string.Join('\n', await check.QueryAsync<string>(
                $"EXPLAIN SELECT d.id, cl.label FROM ingestion.documents d LEFT {CurrentLabel.JoinOnDocument}", transaction: tx));
            Assert.Contains("labels_document_idx", plan);
        }

        // Foreign keys across schemas still hold: deleting a document removes its rows in every module's schema.
        await check.ExecuteAsync("DELETE FROM ingestion.original_documents WHERE id = @DocA", new { DocA });
        foreach (var table in new[] { "ingestion.labels", "pipeline.raw_texts", "embedding.embeddings", "embedding.page_features", "training.splits", "inference.predictions", "inference.latest_predictions" })
            Assert.Equal(0, await check.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table} WHERE document_id = @DocA", new { DocA }));
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.job"));
    }

    private static float[] Unit(int n) => Enumerable.Range(0, n).Select(i => i == 0 ? 1f : 0f).ToArray();

    private static async Task<long[]> CountsAsync(NpgsqlDataSource dataSource, IEnumerable<string> tables, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var counts = new List<long>();
        foreach (var table in tables) counts.Add(await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"));
        return counts.ToArray();
    }

    /// <summary>Rows as the release before the module schemas wrote them, with its table names.</summary>
    private static async Task SeedAsync(NpgsqlConnection conn)
    {
        await conn.ExecuteAsync("""
            INSERT INTO original_documents (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height)
            VALUES (@DocA, 'a.tif', 'batch-1', 'raw/a/a/a.tif', 'image/tiff', 100, 1, 754, 1000);
            INSERT INTO original_documents (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height, ingest_state)
            VALUES (@DocB, 'b.tif', 'batch-1', 'raw/b/b/b.tif', 'image/tiff', 100, 1, 754, 1000, 'moving');
            INSERT INTO labels (document_id, label, source) VALUES (@DocA, 2, 'dataset');
            INSERT INTO labels (document_id, label, source, created_by) VALUES (@DocA, 7, 'human', 'bob');
            INSERT INTO rejected_documents (source_folder, file_name, reason_code, reason, rejected_path)
            VALUES ('batch-2', 'c.txt', 'unsupported-format', 'not a document', 'rejected/batch-2');
            INSERT INTO raw_texts (document_id, text, method, processor, processor_version, duration_ms)
            VALUES (@DocA, 'raw words', 'ocr', 'tesseract', '5', 40);
            INSERT INTO processed_texts (raw_text_id, document_id, text, processor, processor_version)
            SELECT id, @DocA, 'clean words', 'cleaner', '1' FROM raw_texts;
            INSERT INTO processed_images (document_id, file_path, width, height, processor, processor_version)
            VALUES (@DocA, 'processed/a/a/a.png', 224, 224, 'leptonica', '1');
            INSERT INTO stage_failures (document_id, stage, processor_version, error) VALUES (@DocA, 'ocr', '4', 'an older engine failed');
            INSERT INTO training.splits (document_id, side, label, seed) VALUES (@DocA, 'train', 2, 1);
            INSERT INTO training.runs (name, parameters, encoder, encoder_version, dimensions, seed, device, train_size, validation_size,
                                       test_size, status, triggered_by)
            VALUES ('fused', '{}', 'resnet18-minilm', '1', 896, 1, 'cpu', 1, 0, 0, 'succeeded', 'test');
            INSERT INTO training.epochs (run_id, epoch, train_loss, train_accuracy, duration_ms) SELECT id, 1, 0.5, 0.9, 10 FROM training.runs;
            INSERT INTO training.promotions (run_id, kind, reason, promoted_by) SELECT id, 'automatic', 'first run', 'test' FROM training.runs;
            INSERT INTO training.jobs (fingerprint, documents, triggered_by, outcome) VALUES ('f', 1, 'test', 'trained');
            INSERT INTO inference.predictions (document_id, user_name, model_run_id, model_id, label, confidence, top_probability,
                                               probabilities, duration_ms)
            SELECT @DocA, 'alice', id, 'run-' || id, 7, 0.9, 0.95, array_fill(0.0625::real, ARRAY[16]), 12 FROM training.runs;
            INSERT INTO auth.users (username, password_hash, role) VALUES ('alice', 'hash', 'user');
            -- Hangfire's own schema, which no migration may touch (a stand-in table with one row).
            CREATE SCHEMA IF NOT EXISTS hangfire;
            CREATE TABLE hangfire.job (id bigint PRIMARY KEY);
            INSERT INTO hangfire.job VALUES (1);
            """, new { DocA, DocB });
        await conn.ExecuteAsync("""
            INSERT INTO embeddings (document_id, processed_image_id, processed_text_id, encoder, encoder_version, dimensions, embedding)
            SELECT @DocA, i.id, t.id, 'resnet18-minilm', '1', 896, @Vector FROM processed_images i, processed_texts t;
            INSERT INTO page_features (document_id, kind, version, dimensions, features) VALUES (@DocA, 'regions', '1', 4, @Features);
            """, new { DocA, Vector = new Vector(Unit(896)), Features = new Vector(new float[] { 1, 2, 3, 4 }) });
    }
}
