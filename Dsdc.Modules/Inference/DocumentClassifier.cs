using System.Diagnostics;
using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Dsdc.Shared;
using Dsdc.TextProcessing;
using Dsdc.Training;

namespace Dsdc.Inference;

internal sealed class DocumentClassifier(
    ModelHost host, IDocumentInspector inspector, ITextExtractor extractor, IImagePreprocessor images, IDocumentEncoder encoder,
    RegionEncoder regions, ZeroShotServing zeroShot)
    : IDocumentClassifier
{
    public long? ModelRunId => host.RunId;

    public bool CanClassify => host.RunId is not null || zeroShot.Enabled;

    public ModelManifest? ServedManifest => host.Manifest;

    public Task<long?> ReloadAsync(CancellationToken ct) => host.ReloadAsync(ct);

    public async Task<Classification> ClassifyFileAsync(string path, CancellationToken ct)
    {
        // Fail before the expensive stages when nothing can serve the result.
        if (!CanClassify) host.Lease();
        var timings = new Dictionary<string, double>();
        var total = Stopwatch.StartNew();
        var info = Timed(timings, "inspect", () => inspector.Inspect(path));

        // OCR and image preprocessing are independent: run them side by side.
        var textTask = Task.Run(async () =>
        {
            var watch = Stopwatch.StartNew();
            var raw = await extractor.ExtractAsync(path, info.Format, ct);
            var ocr = watch.Elapsed.TotalMilliseconds;
            var clean = TextCleaner.Clean(raw.Text);
            return (raw.Text, clean, ocr, watch.Elapsed.TotalMilliseconds - ocr);
        }, ct);
        var imageTask = Task.Run(() =>
        {
            var watch = Stopwatch.StartNew();
            var dir = Directory.CreateTempSubdirectory("dsdc-predict-");
            try
            {
                var png = Path.Combine(dir.FullName, "page.png");
                images.Process(path, info.Format, png);
                return (RgbImage.FromProcessed(images.ReadProcessed(png)), watch.Elapsed.TotalMilliseconds);
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }, ct);
        // The region features, when the served model reads them: the same code as the embedding stage, from the file itself.
        var regionTask = host.ReadsRegions ? Task.Run(() =>
        {
            var watch = Stopwatch.StartNew();
            return (regions.Encode(path, info.Format, ct), watch.Elapsed.TotalMilliseconds);
        }, ct) : null;
        var (rawText, text, ocrMs, cleanMs) = await textTask;
        var (image, imageMs) = await imageTask;
        timings["ocr"] = ocrMs;
        timings["clean"] = cleanMs;
        timings["image"] = imageMs;
        var vector = Timed(timings, "encode", () => encoder.Embed(new EncoderInput(image, text), ct));
        float[]? regionFeatures = null;
        if (regionTask is not null)
        {
            (regionFeatures, var regionMs) = await regionTask;
            timings["regions"] = regionMs;
        }
        // The views' other inputs, computed by the same code as in training: raw OCR text, the page's layout grid, its regions.
        var page = new PageInputs(vector, rawText, PageLayout.FromRgb(image.Pixels)) { Regions = regionFeatures, ImageDimensions = encoder.ImageDimensions };
        var result = Classify(vector, page, timings) with { Embedding = vector, Document = info };
        timings["total"] = total.Elapsed.TotalMilliseconds;
        return result;
    }

    public Task<Classification> ClassifyEmbeddingAsync(float[] embedding, CancellationToken ct) =>
        Task.FromResult(Classify(embedding, null, new Dictionary<string, double>()));

    /// <summary>With <paramref name="page"/>, every view of the model; without, the views of the vector only. Without a
    /// champion, the zero-shot model.</summary>
    private Classification Classify(float[] vector, PageInputs? page, Dictionary<string, double> timings)
    {
        var watch = Stopwatch.StartNew();
        if (host.RunId is null && zeroShot.Enabled)
        {
            var p = zeroShot.Model.Predict(page ?? new PageInputs(vector, "", []) { ImageDimensions = encoder.ImageDimensions });
            timings["model"] = watch.Elapsed.TotalMilliseconds;
            var top = ClassificationMetrics.ArgMax(p);
            return new Classification(top, DocumentClasses.NameOf(top), p, Confidence.Entropy(p), p[top], ZeroShotModel.Id, null, timings)
            {
                NeedsReview = true, ZeroShot = true, KnownClasses = Enumerable.Range(0, DocumentClasses.Count).ToList(),
            };
        }
        var model = host.Lease();
        try
        {
            var m = model.Champion.Manifest;
            if (vector.Length != m.Dimensions)
                throw new ArgumentException($"the vector has {vector.Length} values; run {m.RunId} expects {m.Dimensions}", nameof(vector));
            var probabilities = page is null ? model.Model.PredictVector(vector) : model.Model.Predict([page])[0];
            timings["model"] = watch.Elapsed.TotalMilliseconds;
            var label = ClassificationMetrics.ArgMax(probabilities);
            return new Classification(label, DocumentClasses.NameOf(label), probabilities, Confidence.Entropy(probabilities),
                probabilities[label], $"run-{m.RunId}", m.RunId, timings)
            {
                // A model without a measured threshold (trained before calibration was recorded) cannot say; it is not flagged.
                NeedsReview = m.ReviewThreshold is { } threshold && probabilities[label] < threshold,
                ReviewThreshold = m.ReviewThreshold,
                KnownClasses = m.Predictable,
            };
        }
        finally
        {
            model.Release();
        }
    }

    private static T Timed<T>(Dictionary<string, double> timings, string stage, Func<T> work)
    {
        var watch = Stopwatch.StartNew();
        var result = work();
        timings[stage] = watch.Elapsed.TotalMilliseconds;
        return result;
    }
}
