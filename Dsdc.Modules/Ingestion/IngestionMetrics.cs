using Prometheus;

namespace Dsdc.Ingestion;

/// <summary>Prometheus series of ingestion: outcomes and rejection reasons (a short fixed set of codes).</summary>
internal static class IngestionMetrics
{
    public static readonly Counter Outcomes = Metrics.CreateCounter(
        "dsdc_ingestion_documents_total", "Inbox entries handled by ingestion, by outcome (accepted, rejected, deferred, recovered).",
        new CounterConfiguration { LabelNames = ["outcome"] });

    public static readonly Counter Rejections = Metrics.CreateCounter(
        "dsdc_ingestion_rejections_total", "Inbox entries rejected, by reason code.",
        new CounterConfiguration { LabelNames = ["reason"] });

    /// <summary>Documents deleted (hidden for good: their files may still be going), by who asked: a person (API, page,
    /// command line) or the retention of unlabelled uploads.</summary>
    public static readonly Counter Deletions = Metrics.CreateCounter(
        "dsdc_documents_deleted_total", "Stored documents deleted with everything derived from them, by who asked (person, retention).",
        new CounterConfiguration { LabelNames = ["by"] });

    /// <summary>Publishes both series of <see cref="Deletions"/> at 0, so that a rate over them starts from the process's start.</summary>
    public static void PublishDeletions()
    {
        Deletions.WithLabels("person");
        Deletions.WithLabels("retention");
    }

    public static void Record(IngestionOutcome outcome)
    {
        Outcomes.WithLabels(outcome.Kind.ToString().ToLowerInvariant()).Inc();
        if (outcome.Kind == IngestionOutcomeKind.Rejected)
            Rejections.WithLabels(outcome.ReasonCode ?? "unknown").Inc();
    }
}
