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
    }
}
