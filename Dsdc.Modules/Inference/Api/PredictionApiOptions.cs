using System.ComponentModel.DataAnnotations;

namespace Dsdc.Inference.Api;

public sealed class PredictionApiOptions
{
    public const string Section = "Api";

    /// <summary>Largest upload accepted by <c>POST /api/v1/predict</c>; larger requests get 413.</summary>
    [Range(1024, 1L << 32)]
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Predictions computed at once (OCR is CPU-bound: about one per core).</summary>
    [Range(1, 1024)]
    public int MaxConcurrentPredictions { get; set; } = Environment.ProcessorCount;

    /// <summary>Requests that may wait for a slot; beyond that the API answers 503 with Retry-After.</summary>
    [Range(0, 10_000)]
    public int QueueLimit { get; set; } = Environment.ProcessorCount * 4;

    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 2;

    /// <summary>How many similar known documents a prediction lists.</summary>
    [Range(0, 100)]
    public int SimilarDocuments { get; set; } = 5;
}
