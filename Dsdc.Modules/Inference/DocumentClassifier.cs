using System.Diagnostics;
using Dsdc.Embedding;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Training;

namespace Dsdc.Inference;

internal sealed class DocumentClassifier(ModelHost host, DocumentProcessor processor, IDocumentEncoder encoder, ZeroShotServing zeroShot,
    LabelledClasses labelled) : IDocumentClassifier
{
    public long? ModelRunId => host.RunId;

    public bool CanClassify => host.RunId is not null || zeroShot.Enabled;

    public ModelManifest? ServedManifest => host.Manifest;

    public ChampionModel? ServedChampion => host.Champion;

    public string? ChampionLoadFailure => host.LoadFailure;

    public IReadOnlySet<int>? LabelledClasses => labelled.Current;

    public async Task<long?> ReloadAsync(CancellationToken ct)
    {
        var served = await host.ReloadAsync(ct);
        await labelled.RefreshAsync(ct);
        return served;
    }

    public async Task<long?> ReloadIfDueAsync(TimeSpan interval, CancellationToken ct)
    {
        var served = await host.ReloadIfDueAsync(interval, ct);
        await labelled.RefreshIfDueAsync(interval, ct);
        return served;
    }

    public Task<Classification> ClassifyFileAsync(string path, CancellationToken ct) => ClassifyFileAsync(path, null, ct);

    public async Task<Classification> ClassifyFileAsync(string path, string? processedImagePath, CancellationToken ct)
    {
        // The model is taken once, before the expensive stages (which fail fast when nothing can serve), and held to
        // the end: a champion promoted during OCR cannot ask for inputs (the region features) this call did not compute.
        using var serving = AcquireServing();
        var total = Stopwatch.StartNew();
        // The same steps as the pipeline's stages; the region features when the served model reads them.
        var processed = await processor.ProcessAsync(path, processedImagePath, serving.ReadsRegions, ct);
        var timings = new Dictionary<string, double>(processed.TimingsMs);
        var result = serving.Classify(processed.Embedding.Value, Inputs(processed), timings) with
        {
            Embedding = processed.Embedding.Value, Document = processed.Info, Processed = processed,
        };
        timings["total"] = total.Elapsed.TotalMilliseconds;
        return result;
    }

    /// <summary>The views' inputs, computed by the same code as in training: the vector, the raw OCR text and its extra
    /// readings, the page's layout grid (from the processed page's pixels), its region features.</summary>
    private PageInputs Inputs(ProcessedDocument d) =>
        new(d.Embedding.Value, d.RawText.Value.Text, PageLayout.FromRgb(d.Image.Value.Pixels.Pixels))
        {
            Regions = d.Regions?.Value, ImageDimensions = encoder.ImageDimensions, Readings = d.RawText.Value.Readings,
        };

    public Task<Classification> ClassifyInputsAsync(PageInputs page, CancellationToken ct)
    {
        using var serving = AcquireServing();
        return Task.FromResult(serving.Classify(page));
    }

    public Task<Classification> ClassifyEmbeddingAsync(float[] embedding, CancellationToken ct)
    {
        using var serving = AcquireServing();
        return Task.FromResult(serving.Classify(embedding, null, new Dictionary<string, double>()));
    }

    public IServingModel Acquire() => AcquireServing();

    private Serving AcquireServing() =>
        host.TryLease() is { } model
            ? new Serving(model, zeroShot, encoder, Inference.LabelledClasses.Servable(model.Champion.Manifest.Predictable, labelled.Current))
        : zeroShot.Enabled ? new Serving(null, zeroShot, encoder, [])
        : throw ModelHost.NoModel(host.LoadFailure);

    /// <summary>One model held for a series of calls: the champion leased (its sessions stay open), or the zero-shot model;
    /// the champion predicts only <paramref name="servable"/>, its classes still labelled when it was taken
    /// (<see cref="Inference.LabelledClasses"/>).</summary>
    private sealed class Serving(ServedModel? model, ZeroShotServing zeroShot, IDocumentEncoder encoder, IReadOnlyList<int> servable) : IServingModel
    {
        private int _disposed;

        public long? RunId => model?.Champion.RunId;

        public string ModelId => model is null ? ZeroShotModel.Id : $"run-{model.Champion.RunId}";

        public bool ReadsRegions => model?.Model.ViewNames.Contains(ViewKinds.Regions) == true;

        public Classification Classify(PageInputs page) => Classify(page.Vector, page, new Dictionary<string, double>());

        /// <summary>With <paramref name="page"/>, every view of the model; without, the views of the vector only.</summary>
        public Classification Classify(float[] vector, PageInputs? page, Dictionary<string, double> timings)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var watch = Stopwatch.StartNew();
            if (model is null)
            {
                var p = zeroShot.Model.Predict(page ?? new PageInputs(vector, "", []) { ImageDimensions = encoder.ImageDimensions });
                timings["model"] = watch.Elapsed.TotalMilliseconds;
                var top = ClassificationMetrics.ArgMax(p);
                return new Classification(top, DocumentClasses.NameOf(top), p, Confidence.Entropy(p), p[top], ZeroShotModel.Id, null, timings)
                {
                    NeedsReview = true, ZeroShot = true, KnownClasses = Enumerable.Range(0, DocumentClasses.Count).ToList(),
                };
            }
            var m = model.Champion.Manifest;
            if (vector.Length != m.Dimensions)
                throw new ArgumentException($"the vector has {vector.Length} values; run {m.RunId} expects {m.Dimensions}", nameof(vector));
            var probabilities = page is null ? model.Model.PredictVector(vector) : model.Model.Predict([page])[0];
            timings["model"] = watch.Elapsed.TotalMilliseconds;
            var modelsAnswer = ClassificationMetrics.ArgMax(probabilities);
            var measured = probabilities;
            // A class that lost its last label since the model was trained is not predicted (until the next job retrains).
            if (servable.Count < m.Predictable.Count) probabilities = Inference.LabelledClasses.Restrict(probabilities, servable);
            var label = ClassificationMetrics.ArgMax(probabilities);
            return new Classification(label, DocumentClasses.NameOf(label), probabilities, Confidence.Entropy(probabilities),
                probabilities[label], $"run-{m.RunId}", m.RunId, timings)
            {
                // A model without a measured threshold (trained before calibration was recorded) cannot say; it is not flagged.
                // A threshold of 1 says no confidence reached the target accuracy: every answer needs review, even one whose
                // probability rounds to exactly 1.
                // From a vector alone a multi-view model answers with part of itself, which its threshold (and calibration)
                // was not measured on: such an answer always needs review.
                // The threshold was measured on the model's own probabilities, before any class was left out: the answer's
                // is compared with it, and an answer that is not the model's first choice (its first lost its labels) was
                // never measured, so it needs review.
                NeedsReview = (page is null && model.Model.ViewNames.Any(v => v != ViewKinds.Vector))
                    || (m.ReviewThreshold is { } threshold && (measured[label] < threshold || threshold >= 1))
                    || label != modelsAnswer,
                ReviewThreshold = m.ReviewThreshold,
                KnownClasses = servable,
            };
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) model?.Release();
        }
    }
}
