using Prometheus;

namespace Dsdc.Ocr;

/// <summary>What the engine pool gives up (throughput and durations are the pipeline's: <c>dsdc_ocr_*</c> in PipelineMetrics).</summary>
internal static class OcrMetrics
{
    public static readonly Counter PagesGivenUp = Metrics.CreateCounter(
        "dsdc_ocr_pages_given_up_total",
        "Pages whose OCR ran past twice Ocr:PageTimeoutSeconds (Tesseract's layout analysis, which its deadline does not reach): each refused its document.");

    public static readonly Gauge EnginesRunningOn = Metrics.CreateGauge(
        "dsdc_ocr_engines_running_on",
        "Tesseract engines given up on a page whose thread still runs (each holds a core until Tesseract returns).");
}
