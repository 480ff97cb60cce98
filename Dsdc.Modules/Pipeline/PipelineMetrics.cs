using Prometheus;

namespace Dsdc.Pipeline;

/// <summary>Prometheus series of the pipeline. Labels stay low-cardinality: stage and outcome, never a document id.</summary>
public static class PipelineMetrics
{
    public static readonly Counter StageDocuments = Metrics.CreateCounter(
        "dsdc_pipeline_documents_total", "Documents handled by a pipeline stage, by outcome.",
        new CounterConfiguration { LabelNames = ["stage", "outcome"] });

    public static readonly Histogram StageDuration = Metrics.CreateHistogram(
        "dsdc_pipeline_stage_duration_seconds", "Time a pipeline stage spent on one document.",
        new HistogramConfiguration { LabelNames = ["stage"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 20) }); // 5 ms to 44 min

    public static readonly Gauge Backlog = Metrics.CreateGauge(
        "dsdc_pipeline_backlog", "Documents waiting for a stage (inbox: entries waiting to be ingested).",
        new GaugeConfiguration { LabelNames = ["stage"] });

    public static readonly Counter OcrDocuments = Metrics.CreateCounter(
        "dsdc_ocr_documents_total", "Documents whose text was extracted, by method (ocr, pdf-text-layer).",
        new CounterConfiguration { LabelNames = ["method"] });

    public static readonly Counter OcrPages = Metrics.CreateCounter(
        "dsdc_ocr_pages_total", "Pages whose text was extracted, by method: rate() is the OCR throughput in pages/s.",
        new CounterConfiguration { LabelNames = ["method"] });

    public static readonly Histogram OcrDuration = Metrics.CreateHistogram(
        "dsdc_ocr_duration_seconds", "Time to extract the text of one document (all its pages), by method.",
        new HistogramConfiguration { LabelNames = ["method"], Buckets = Histogram.ExponentialBuckets(0.05, 2, 17) }); // 50 ms to 55 min (Ocr:DocumentTimeoutSeconds)

    public static readonly Counter EmbeddedDocuments = Metrics.CreateCounter(
        "dsdc_embedding_documents_total", "Embeddings stored: rate() is the embedding throughput in documents/s.");

    public static readonly Histogram EmbeddingBatchDuration = Metrics.CreateHistogram(
        "dsdc_embedding_batch_duration_seconds", "Time of one embedding batch (up to Pipeline:BatchSize documents through the image and text encoders); a job takes batches while documents keep arriving.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.05, 2, 16) });

    /// <summary>Runs the embedding stage and records how many documents it stored and how long it took.</summary>
    public static async Task<int> MeasureEmbeddingAsync(Func<Task<int>> embed)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var stored = await embed();
        if (stored > 0)
        {
            EmbeddingBatchDuration.Observe(watch.Elapsed.TotalSeconds);
            EmbeddedDocuments.Inc(stored);
            StageDocuments.WithLabels("embedding", "processed").Inc(stored);
        }
        return stored;
    }
}
