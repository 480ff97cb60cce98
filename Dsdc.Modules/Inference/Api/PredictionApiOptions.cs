using System.ComponentModel.DataAnnotations;

namespace Dsdc.Inference.Api;

public sealed class PredictionApiOptions : IValidatableObject
{
    public const string Section = "Api";

    /// <summary>Largest upload accepted by <c>POST /api/v1/predict</c>; larger requests get 413.</summary>
    [Range(1024, 1L << 32)]
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>
    /// Largest request of a batch upload (<c>POST /api/v1/documents</c> and the upload page), all its files together;
    /// each file is still held to <see cref="MaxUploadBytes"/>.
    /// </summary>
    [Range(1024, 1L << 40)]
    public long MaxBatchUploadBytes { get; set; } = 1L << 30;

    /// <summary>
    /// The bytes of uploads received at once by the API and the pages together (<see cref="UploadBudget"/>): each holds its
    /// declared length, or its route's limit when it declares none, until its request ends; beyond it, 503 with
    /// Retry-After before the body is read. At least one batch's limit. Keep it below the free space of the temporary
    /// folder (<c>ASPNETCORE_TEMP</c>, else the system's), where uploaded files wait while their request runs.
    /// </summary>
    [Range(1024, 1L << 42)]
    public long MaxUploadBytesInFlight { get; set; } = 4L << 30;

    /// <summary>Most files in one batch upload.</summary>
    [Range(1, 1000)]
    public int MaxBatchFiles { get; set; } = 500;

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

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxUploadBytesInFlight < UploadLimits.BatchRequestBytes(this))
            yield return new ValidationResult(
                $"must be at least one batch upload's limit ({UploadLimits.BatchRequestBytes(this)} bytes: the larger of MaxBatchUploadBytes and MaxUploadBytes, plus the multipart overhead), or no batch could ever be received",
                [nameof(MaxUploadBytesInFlight)]);
    }
}
