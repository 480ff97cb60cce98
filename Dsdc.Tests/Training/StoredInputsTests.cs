using Dapper;
using Dsdc.Tests.Embedding;
using Dsdc.Training;
using Pgvector;

namespace Dsdc.Tests.Training;

/// <summary>What training reads of a stored document (<see cref="TrainingStore.StoredInputsOf"/>): its newest vector of the
/// encoder and the lineage of that vector, once per labelled document.</summary>
public sealed class StoredInputsTests(EmbeddingDatabase db) : IClassFixture<EmbeddingDatabase>
{
    [Fact]
    public async Task TrainingReadsTheNewestVectorOfEachLabelledDocumentWithItsOwnLineage()
    {
        var ct = TestContext.Current.CancellationToken;
        // Reprocessed: a vector from the first preprocessing, then a newer one from the second.
        var reprocessed = await db.AddDocumentAsync(datasetLabel: 1);
        var text = await db.AddProcessedTextAsync(reprocessed, "clean words");
        await Embed(reprocessed, await db.AddProcessedImageAsync(reprocessed, "processed/first.png", "1"), text, "resnet18-minilm", 0.25f);
        await Embed(reprocessed, await db.AddProcessedImageAsync(reprocessed, "processed/second.png", "2"), text, "resnet18-minilm", 0.5f);
        // Unlabelled, and labelled but embedded by another encoder only: neither is read.
        var unlabelled = await db.AddDocumentAsync();
        await Embed(unlabelled, await db.AddProcessedImageAsync(unlabelled, "processed/u.png"), await db.AddProcessedTextAsync(unlabelled, "u"),
            "resnet18-minilm", 0.75f);
        var otherEncoder = await db.AddDocumentAsync(datasetLabel: 3);
        await Embed(otherEncoder, await db.AddProcessedImageAsync(otherEncoder, "processed/o.png"), await db.AddProcessedTextAsync(otherEncoder, "o"),
            "another-encoder", 1f);

        var rows = await new TrainingStore(db.DataSource).LabelledDocumentsAsync("resnet18-minilm", "1", withText: true, ct, regionsVersion: "r");

        var row = Assert.Single(rows);
        Assert.Equal((reprocessed, 1), (row.Example.DocumentId.Trim(), row.Example.Label));
        Assert.Equal(0.5f, row.Example.Vector[0]);
        Assert.Equal("processed/second.png", row.ImagePath);
        Assert.Equal(("clean words", "clean words"), (row.Text, row.RawText));
        Assert.Null(row.Regions);
    }

    private async Task Embed(string documentId, long image, long text, string encoder, float value)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO embedding.embeddings (document_id, processed_image_id, processed_text_id, encoder, encoder_version, dimensions, embedding)
            VALUES (@documentId, @image, @text, @encoder, '1', 896, @vector)
            """, new { documentId, image, text, encoder, vector = new Vector(Enumerable.Range(0, 896).Select(j => j == 0 ? value : 0f).ToArray()) });
    }
}
