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

    public static void Record(IngestionOutcome outcome)
    {
        Outcomes.WithLabels(outcome.Kind.ToString().ToLowerInvariant()).Inc();
        if (outcome.Kind == IngestionOutcomeKind.Rejected)
            Rejections.WithLabels(outcome.ReasonCode ?? "unknown").Inc();
    }
}
