using Dapper;
using Dsdc.Shared.Database;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pgvector;

namespace Dsdc.Tests.Training;

/// <summary>What training reads of a stored document (<see cref="TrainingStore.StoredInputsOf"/>): its newest vector of the
/// encoder and the lineage of that vector, once per labelled document.</summary>
public sealed class StoredInputsTests
{
    private static readonly string Reprocessed = new('a', 40), Unlabelled = new('b', 40), OtherEncoderOnly = new('c', 40);

    [Fact]
    public async Task TrainingReadsTheNewestVectorOfEachLabelledDocumentWithItsOwnLineage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync();
        var builder = new NpgsqlDataSourceBuilder(db.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        DatabaseModule.ConfigureDapper();
        await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(ct);

        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        {
            foreach (var (id, n) in new[] { (Reprocessed, 1), (Unlabelled, 2), (OtherEncoderOnly, 3) })
            {
                await conn.ExecuteAsync("""
                    INSERT INTO ingestion.original_documents (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height)
                    VALUES (@id, @name, 'batch', @path, 'image/png', 100, 1, 754, 1000);
                    INSERT INTO pipeline.raw_texts (document_id, text, method, processor, processor_version, duration_ms)
                    VALUES (@id, 'raw ' || @n, 'ocr', 'tesseract', '5', 40);
                    INSERT INTO pipeline.processed_texts (raw_text_id, document_id, text, processor, processor_version)
                    SELECT id, @id, 'clean ' || @n, 'cleaner', '1' FROM pipeline.raw_texts WHERE document_id = @id;
                    """, new { id, n, name = $"{n}.png", path = $"raw/{n}.png" });
                // A label for two of them; the one without a vector of the encoder must not be read.
                if (id != Unlabelled)
                    await conn.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source) VALUES (@id, @n, 'dataset')", new { id, n });
            }
            // The reprocessed page: a vector from the first preprocessing, then a newer one from the second.
            foreach (var (version, value) in new[] { ("1", 0.25f), ("2", 0.5f) })
                await Embed(conn, Reprocessed, version, "resnet18-minilm", value);
            await Embed(conn, Unlabelled, "1", "resnet18-minilm", 0.75f);
            await Embed(conn, OtherEncoderOnly, "1", "another-encoder", 1f);
        }

        var rows = await new TrainingStore(dataSource).LabelledDocumentsAsync("resnet18-minilm", "1", withText: true, ct, regionsVersion: "r");

        var row = Assert.Single(rows);
        Assert.Equal((Reprocessed, 1), (row.Example.DocumentId.Trim(), row.Example.Label));
        Assert.Equal(0.5f, row.Example.Vector[0]);
        Assert.Equal("processed/2.png", row.ImagePath);
        Assert.Equal(("clean 1", "raw 1"), (row.Text, row.RawText));
        Assert.Null(row.Regions);
    }

    private static Task Embed(NpgsqlConnection conn, string id, string imageVersion, string encoder, float value) =>
        conn.ExecuteAsync("""
            INSERT INTO pipeline.processed_images (document_id, file_path, width, height, processor, processor_version)
            VALUES (@id, 'processed/' || @imageVersion || '.png', 224, 224, 'leptonica', @imageVersion);
            INSERT INTO embedding.embeddings (document_id, processed_image_id, processed_text_id, encoder, encoder_version, dimensions, embedding)
            SELECT @id, i.id, t.id, @encoder, '1', @dimensions, @vector
            FROM pipeline.processed_images i, pipeline.processed_texts t
            WHERE i.document_id = @id AND i.processor_version = @imageVersion AND t.document_id = @id;
            """, new { id, imageVersion, encoder, dimensions = 896, vector = new Vector(Enumerable.Range(0, 896).Select(j => j == 0 ? value : 0f).ToArray()) });
}
