using Dsdc.Shared;
using Prometheus;

namespace Dsdc.Monitoring;

/// <summary>
/// Prometheus series of the model and the job engine. Prediction code records through the methods below; the
/// gauges are filled at scrape time from the database and Hangfire (see <see cref="ScrapeCollectors"/>).
/// Labels stay low-cardinality: a class name, a status, a queue; never a document or user.
/// </summary>
public static class DsdcMetrics
{
    public static readonly Counter Predictions = Metrics.CreateCounter(
        "dsdc_predictions_total", "Predictions served, by predicted class.",
        new CounterConfiguration { LabelNames = ["class"] });

    public static readonly Counter PredictionsNeedingReview = Metrics.CreateCounter(
        "dsdc_predictions_needing_review_total", "Predictions served through the API and UI that need a person's review (needsReview), by predicted class.",
        new CounterConfiguration { LabelNames = ["class"] });

    public static readonly Counter StoredDocumentPredictions = Metrics.CreateCounter(
        "dsdc_stored_document_predictions_total",
        "Predictions the recurring job recorded for stored unlabelled documents (the inbox, bulk uploads; again after a champion change), by predicted class.",
        new CounterConfiguration { LabelNames = ["class"] });

    public static readonly Counter StoredDocumentPredictionsNeedingReview = Metrics.CreateCounter(
        "dsdc_stored_document_predictions_needing_review_total",
        "Predictions the recurring job recorded for stored unlabelled documents that need a person's review (needsReview), by predicted class.",
        new CounterConfiguration { LabelNames = ["class"] });

    public static readonly Histogram PredictionConfidence = Metrics.CreateHistogram(
        "dsdc_prediction_confidence", "Entropy-based confidence of served predictions (1 = certain, 0 = uniform).",
        new HistogramConfiguration { Buckets = Histogram.LinearBuckets(0.1, 0.1, 10) });

    public static readonly Histogram PredictionDuration = Metrics.CreateHistogram(
        "dsdc_prediction_duration_seconds", "Time to classify one uploaded document (OCR, preprocessing, encoder, model).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.01, 2, 18) }); // 10 ms to 22 min: a long PDF's OCR

    public static readonly Gauge ChampionAccuracy = Metrics.CreateGauge(
        "dsdc_model_champion_accuracy",
        "Estimated accuracy of the promoted model (the champion): cross-validated while data is small, else on the stored test side.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge ChampionMacroF1 = Metrics.CreateGauge(
        "dsdc_model_champion_macro_f1", "Estimated macro-F1 of the promoted model (the champion), measured the same way as its accuracy.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge ChampionAccuracySd = Metrics.CreateGauge(
        "dsdc_model_champion_accuracy_sd",
        "Standard deviation of the champion's accuracy over its cross-validation folds (absent when it was measured on the test side).",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge LabelledDocuments = Metrics.CreateGauge(
        "dsdc_labelled_documents", "Stored documents by class of their current label and that label's source (human, dataset).",
        new GaugeConfiguration { LabelNames = ["class", "source"] });

    public static readonly Gauge UnlabelledDocuments = Metrics.CreateGauge(
        "dsdc_unlabelled_documents", "Stored documents without any label.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge UnfinishedDeletions = Metrics.CreateGauge(
        "dsdc_document_deletions_unfinished",
        "Deleted documents whose files are not all removed yet: hidden from every reader, finished by the next ingestion run.");

    public static readonly Gauge ReviewQueueDocuments = Metrics.CreateGauge(
        "dsdc_review_queue_documents",
        "Documents waiting in the review queue: unlabelled ones, and labelled ones whose latest prediction needs review unless a person labelled them since.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge ChampionAge = Metrics.CreateGauge(
        "dsdc_model_champion_age_seconds", "Seconds since the champion's training run finished.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge ChampionRunId = Metrics.CreateGauge(
        "dsdc_model_champion_run_id", "Training run id of the champion (changes on promotion and rollback).",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge TrainingRuns = Metrics.CreateGauge(
        "dsdc_training_runs", "Training runs recorded in the database, by status (running, succeeded, failed).",
        new GaugeConfiguration { LabelNames = ["status"] });

    public static readonly Gauge JobsEnqueued = Metrics.CreateGauge(
        "dsdc_jobs_enqueued", "Hangfire jobs waiting in each queue.",
        new GaugeConfiguration { LabelNames = ["queue"] });

    public static readonly Gauge Jobs = Metrics.CreateGauge(
        "dsdc_jobs", "Hangfire jobs by state (enqueued, scheduled, processing, failed, succeeded, deleted, retries, recurring).",
        new GaugeConfiguration { LabelNames = ["state"] });

    public static readonly Gauge JobServers = Metrics.CreateGauge(
        "dsdc_jobs_servers", "Hangfire servers alive (each web process or worker runs one or two).");

    static DsdcMetrics()
    {
        // Every class shows up at zero, so dashboards and rate() see the series before the first prediction.
        foreach (var name in DocumentClasses.Names)
        {
            Predictions.WithLabels(name);
            PredictionsNeedingReview.WithLabels(name);
            StoredDocumentPredictions.WithLabels(name);
            StoredDocumentPredictionsNeedingReview.WithLabels(name);
        }
    }

    /// <summary>Records one served prediction: call it from every path that answers a user with a class.</summary>
    public static void RecordPrediction(int label, double confidence, TimeSpan? duration = null, bool needsReview = false)
    {
        Predictions.WithLabels(DocumentClasses.NameOf(label)).Inc();
        if (needsReview) PredictionsNeedingReview.WithLabels(DocumentClasses.NameOf(label)).Inc();
        PredictionConfidence.Observe(Math.Clamp(confidence, 0, 1));
        if (duration is { } d) PredictionDuration.Observe(d.TotalSeconds);
    }

    /// <summary>Records one prediction the recurring job stored for an unlabelled document: no user waited for it, so it
    /// stays out of the served predictions' series (their rate, confidence and latency).</summary>
    public static void RecordStoredDocumentPrediction(int label, bool needsReview)
    {
        StoredDocumentPredictions.WithLabels(DocumentClasses.NameOf(label)).Inc();
        if (needsReview) StoredDocumentPredictionsNeedingReview.WithLabels(DocumentClasses.NameOf(label)).Inc();
    }
}
