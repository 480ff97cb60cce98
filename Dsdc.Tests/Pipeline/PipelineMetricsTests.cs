using Dsdc.Pipeline;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Ingestion;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Pipeline;

public sealed class PipelineMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MetricsExposeIngestionOutcomesStageCountsAndTheBacklog()
    {
        await using var app = await IngestionApp.StartAsync();
        var png = Fixtures.First(".png");
        app.Drop("one", png.Path, png.Label.ToString());
        app.DropBytes("bad", "zero.png", [], "1");
        await app.Ingestor.IngestAsync(10, null, Ct);
        await app.Services.GetRequiredService<PipelineStages>().ProcessImagesAsync(10, Ct);
        using var client = app.CreateClient();

        var text = await client.GetStringAsync("/metrics", Ct);

        Assert.Contains("dsdc_ingestion_documents_total{outcome=\"accepted\"}", text);
        Assert.Contains("dsdc_ingestion_rejections_total{reason=\"empty-file\"}", text);
        Assert.Contains("dsdc_pipeline_documents_total{stage=\"image\",outcome=\"processed\"}", text);
        Assert.Contains("dsdc_pipeline_stage_duration_seconds_bucket{stage=\"image\"", text);
        // The document still waits for OCR: the backlog gauge, read from the database at scrape time, says so.
        Assert.Contains("dsdc_pipeline_backlog{stage=\"ocr\"} 1", text);
        Assert.Contains("dsdc_pipeline_backlog{stage=\"image\"} 0", text);
        var stages = app.Services.GetRequiredService<PipelineStages>();
        var maxAttempts = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PipelineOptions>>().Value.MaxAttempts;
        var version = app.Services.GetRequiredService<DocumentProcessor>().OcrVersion;
        // A failure still being retried, and one an older OCR version gave up on (this version tries again): neither
        // is a document given up, and the document still waits for OCR.
        await app.ScalarAsync<int>("""
            INSERT INTO pipeline.stage_failures (document_id, stage, processor_version, attempts, error)
            SELECT id, 'ocr', @version, 1, 'test: first try failed' FROM ingestion.documents
            UNION ALL SELECT id, 'ocr', 'older-version', @maxAttempts, 'test: given up by an older version' FROM ingestion.documents
            RETURNING 1
            """, new { version, maxAttempts });
        var retrying = await stages.BacklogAsync(Ct);
        Assert.Equal((1L, 0L), (retrying.Ocr, retrying.Failures));
        await app.ScalarAsync<int>("DELETE FROM pipeline.stage_failures WHERE processor_version = @version RETURNING 1", new { version });
        // OCR gives up on it (its last attempt failed at this version): it no longer waits, it is counted as a failure.
        await app.ScalarAsync<int>("""
            INSERT INTO pipeline.stage_failures (document_id, stage, processor_version, attempts, error)
            SELECT id, 'ocr', @version, @maxAttempts, 'test: given up' FROM ingestion.documents
            RETURNING 1
            """, new { version, maxAttempts });
        var backlog = await stages.BacklogAsync(Ct);
        Assert.Equal((0L, 1L), (backlog.Ocr, backlog.Failures));
    }
}
