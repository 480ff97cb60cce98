using System.ComponentModel.DataAnnotations;

namespace Dsdc.Pipeline;

public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    /// <summary>Schedule of the recurring pipeline run (cron, UTC); every 3 minutes as in the original.</summary>
    [Required(AllowEmptyStrings = false)]
    [Dsdc.Shared.Cron]
    public string Cron { get; set; } = "*/3 * * * *";

    public bool Enabled { get; set; } = true;

    /// <summary>Documents per stage and per run.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>A document that failed this many times in a stage, or that the worker process died on this many times
    /// while working on it alone (pipeline.stage_starts), is skipped by that stage's processor version.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// How long after a failed attempt, or a death of the worker on it, a stage tries that document again (seconds): a
    /// passing problem (a page render timing out under load, too many open files, memory short while something else ran)
    /// gets its next attempt later, not within the same second.
    /// </summary>
    [Range(0, 7 * 24 * 3600)]
    public int RetryAfterSeconds { get; set; } = 600;

    /// <summary>
    /// Image and OCR jobs a pipeline run enqueues at most, one per <see cref="BatchSize"/> documents waiting: with
    /// several workers, that many batches of a stage run at once (each claims its own documents).
    /// </summary>
    [Range(1, 64)]
    public int MaxJobsPerStage { get; set; } = 4;

    /// <summary>Documents processed at once by the OCR and image stages.</summary>
    [Range(1, 256)]
    public int Parallelism { get; set; } = Environment.ProcessorCount;

    public MockArrivalsOptions MockArrivals { get; set; } = new();
}

/// <summary>Simulated arrivals (the original's mock_new_data DAG): copies labelled documents from a corpus into the inbox.</summary>
public sealed class MockArrivalsOptions
{
    public bool Enabled { get; set; }

    [Required(AllowEmptyStrings = false)]
    [Dsdc.Shared.Cron]
    public string Cron { get; set; } = "*/5 * * * *";

    /// <summary>A folder laid out like the datasets: class folders named &lt;index&gt;_&lt;name&gt; at any depth.</summary>
    public string? CorpusDir { get; set; }

    [Range(1, 10_000)]
    public int Count { get; set; } = 10;
}
