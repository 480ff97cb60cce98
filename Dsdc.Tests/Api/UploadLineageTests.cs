using System.Security.Cryptography;
using Dapper;
using Dsdc.Embedding;
using Dsdc.Inference;
using Dsdc.Inference.Api;
using Dsdc.Ocr;
using Dsdc.Pipeline;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dsdc.Tests.Api;

/// <summary>
/// One document path: a prediction's upload is processed once (inspect, OCR beside the image, cleaning, encoding), stored
/// with the lineage rows the pipeline would have written, and the pipeline then has nothing left to do for it.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class UploadLineageTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnUploadIsOcrdOnceAndStoredWithTheLineageThePipelineWouldWrite()
    {
        // A scanned page no other test uploads: not among the trained ones, past the ones other prediction tests pick.
        var page = Fixtures.Labelled().Where(d => d.Path.EndsWith(".tif", StringComparison.OrdinalIgnoreCase) && !app.Known.Contains(d))
            .Skip(7).First();
        var id = Convert.ToHexStringLower(SHA1.HashData(await File.ReadAllBytesAsync(page.Path, Ct)));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE id = @id", new { id }));

        var outcome = await PredictAsync(page.Path);

        Assert.Equal(id, outcome.DocumentId);
        Assert.Equal(1, app.Ocr.Calls(id));
        var processor = app.Get<DocumentProcessor>();
        var ocr = app.Get<ITextExtractor>();
        var encoder = app.Get<IDocumentEncoder>();
        var readsRegions = app.Get<ModelHost>().ReadsRegions;
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        await conn.OpenAsync(Ct);

        // Every row of the lineage, from the processors' current versions, before any pipeline run.
        var image = await conn.QuerySingleAsync<(long Id, string Path, string Processor, string Version)>(
            "SELECT id, file_path, processor, processor_version FROM pipeline.processed_images WHERE document_id = @id", new { id });
        Assert.Equal((processor.ProcessedImagePath(id), processor.ImageProcessor, processor.ImageVersion), (image.Path, image.Processor, image.Version));
        Assert.True(File.Exists(processor.DataPath(image.Path)), image.Path);
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(processor.DataPath(image.Path))!, ".*.tmp"));
        var raw = await conn.QuerySingleAsync<(long Id, string Text, string Method, string Processor, string Version, string? Readings)>(
            "SELECT id, text, method, processor, processor_version, readings FROM pipeline.raw_texts WHERE document_id = @id", new { id });
        Assert.Equal(("ocr", ocr.Processor, ocr.ProcessorVersion), (raw.Method, raw.Processor, raw.Version));
        // The page's extra readings (Ocr:ExtraReadings, two by default) are stored beside its text.
        Assert.Equal(2, raw.Readings!.Split('\f').Length);
        var clean = await conn.QuerySingleAsync<(long Id, long RawTextId, string Processor, string Version)>(
            "SELECT id, raw_text_id, processor, processor_version FROM pipeline.processed_texts WHERE document_id = @id", new { id });
        Assert.Equal((raw.Id, DocumentProcessor.CleanProcessor, DocumentProcessor.CleanVersion), (clean.RawTextId, clean.Processor, clean.Version));
        var embedding = await conn.QuerySingleAsync<(long ImageId, long TextId, string Encoder, string Version)>(
            "SELECT processed_image_id, processed_text_id, encoder, encoder_version FROM embedding.embeddings WHERE document_id = @id", new { id });
        Assert.Equal((image.Id, clean.Id, encoder.Id, encoder.Version), embedding);
        // The region features only when the served model read them; otherwise the embedding stage adds them later.
        Assert.Equal(readsRegions ? 1L : 0L, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM embedding.page_features WHERE document_id = @id", new { id }));

        await app.Get<PipelineRunner>().RunUntilEmptyAsync(null, Ct);

        // The pipeline found nothing missing: no second OCR, no second row of any stage.
        Assert.Equal(1, app.Ocr.Calls(id));
        foreach (var table in new[] { "pipeline.raw_texts", "pipeline.processed_texts", "pipeline.processed_images", "embedding.embeddings", "embedding.page_features" })
            Assert.Equal(1L, await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table} WHERE document_id = @id", new { id }));
    }

    [Fact]
    public async Task TheStoredLineageReproducesThePrediction()
    {
        var page = Fixtures.Labelled().Where(d => d.Path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && !app.Known.Contains(d))
            .Skip(3).First();
        var outcome = await PredictAsync(page.Path);
        var id = outcome.DocumentId;
        var processor = app.Get<DocumentProcessor>();
        var encoder = app.Get<IDocumentEncoder>();
        var embeddings = app.Get<EmbeddingStore>();
        var classifier = app.Get<IDocumentClassifier>();

        // The stored vector is the one the prediction computed and classified.
        var stored = await embeddings.FindAsync(id, encoder.Id, encoder.Version, Ct);
        Assert.NotNull(stored);
        Assert.Equal(outcome.Result.Embedding, stored);

        // The stored inputs (vector, raw text, processed page, region features) give the prediction's probabilities.
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        var (rawText, readings, png, file) = await conn.QuerySingleAsync<(string, string?, string, string)>("""
            SELECT r.text, r.readings, i.file_path, d.file_path FROM ingestion.original_documents d
            JOIN pipeline.raw_texts r ON r.document_id = d.id JOIN pipeline.processed_images i ON i.document_id = d.id WHERE d.id = @id
            """, new { id });
        var regions = app.Get<ModelHost>().ReadsRegions
            ? await embeddings.FindFeaturesAsync(id, RegionEncoder.Kind, processor.RegionsVersion, Ct)
            : null;
        var inputs = new PageInputs(stored, rawText, PageLayout.FromRgb(processor.ReadProcessedImage(processor.DataPath(png)).Pixels))
        {
            Regions = regions, ImageDimensions = encoder.ImageDimensions, Readings = readings,
        };
        Assert.NotNull(readings);
        var fromStored = await classifier.ClassifyInputsAsync(inputs, Ct);
        AssertClose(outcome.Result.Probabilities, fromStored.Probabilities);
        Assert.Equal(outcome.Result.Label, fromStored.Label);

        // Classifying the stored file again reproduces the stored vector and the same answer.
        var again = await classifier.ClassifyFileAsync(processor.DataPath(file), Ct);
        AssertClose(stored, again.Embedding!);
        AssertClose(outcome.Result.Probabilities, again.Probabilities);
    }

    [Fact]
    public async Task AnUploadInterruptedWhileStoringItsLineageIsCompletedWithoutASecondOcr()
    {
        var page = Fixtures.Labelled().Where(d => d.Path.EndsWith(".tif", StringComparison.OrdinalIgnoreCase) && !app.Known.Contains(d))
            .Skip(9).First();
        var outcome = await PredictAsync(page.Path);
        var id = outcome.DocumentId;
        // As if the process died after the raw text: no cleaned text nor embedding yet, the document still 'moving'.
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        await conn.ExecuteAsync("DELETE FROM pipeline.processed_texts WHERE document_id = @id", new { id });
        await conn.ExecuteAsync("UPDATE ingestion.original_documents SET ingest_state = 'moving' WHERE id = @id", new { id });

        await app.Get<PipelineRunner>().RunUntilEmptyAsync(null, Ct);

        Assert.Equal("stored", await conn.ExecuteScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
        Assert.Equal(1, app.Ocr.Calls(id));
        foreach (var table in new[] { "pipeline.raw_texts", "pipeline.processed_texts", "pipeline.processed_images", "embedding.embeddings" })
            Assert.Equal(1L, await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table} WHERE document_id = @id", new { id }));
        var encoder = app.Get<IDocumentEncoder>();
        AssertClose(outcome.Result.Embedding!, (await app.Get<EmbeddingStore>().FindAsync(id, encoder.Id, encoder.Version, Ct))!, 1e-5);
    }

    private Task<PredictionOutcome> PredictAsync(string path) => app.PredictAsync(path, "lineage-tests", Ct);

    private static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"value {i}: {expected[i]} vs {actual[i]}");
    }
}
