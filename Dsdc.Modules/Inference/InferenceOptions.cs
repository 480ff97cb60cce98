using System.ComponentModel.DataAnnotations;

namespace Dsdc.Inference;

public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>
    /// How often a process checks the registry for a new champion (promotions made by another process: a worker's
    /// training job, a second web replica); 0 = only on promotions in this process and explicit reloads.
    /// </summary>
    [Range(0, 86_400)]
    public int ReloadIntervalSeconds { get; set; } = 30;

    /// <summary>Documents <c>evaluate</c> classifies at once (OCR is the slow stage; one engine per worker).</summary>
    [Range(1, 64)]
    public int EvaluateParallelism { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Before any model is trained and promoted, answer with the zero-shot model (class descriptions and cue words) instead of 503.</summary>
    public bool ZeroShot { get; set; } = true;

    /// <summary>Predict the stored documents nobody has labelled (inbox, bulk uploads) with the served model, so that the
    /// review queue orders them by confidence; a recurring job.</summary>
    public bool PredictNewDocuments { get; set; } = true;

    /// <summary>When that job runs (Hangfire cron).</summary>
    [Required(AllowEmptyStrings = false)]
    [Dsdc.Shared.Cron]
    public string PredictNewDocumentsCron { get; set; } = "*/5 * * * *";

    /// <summary>Documents one run predicts at most (the rest wait for the next run).</summary>
    [Range(1, 100_000)]
    public int PredictNewDocumentsBatch { get; set; } = 2000;

    /// <summary>
    /// Days that job's answers are kept once a newer prediction of their document replaces them (every new champion
    /// answers each unlabelled document again, so they would otherwise grow by a row per document per champion for
    /// good); the job deletes those replaced longer ago as it runs. A document's latest answer and the predictions of
    /// every other user name (people's, through the API and the classify page) are always kept. 0 keeps them all.
    /// </summary>
    [Range(0, 36_500)]
    public int KeepReplacedPredictionsDays { get; set; } = 30;
}
