using System.Diagnostics;
using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Dsdc.Shared;
using Dsdc.TextProcessing;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Pipeline;

/// <summary>What one step made, with the processor (or encoder) name and version that made it and how long it took.</summary>
public sealed record StepOutput<T>(T Value, string Processor, string Version, double Milliseconds);

/// <summary>The processed page: the PNG written by the image step, its size, and its RGB pixels as read back from it.</summary>
public sealed record ProcessedPage(string PngPath, int Width, int Height, RgbImage Pixels);

/// <summary>Every step's output for one document, as <see cref="DocumentProcessor.ProcessAsync"/> computed it.</summary>
public sealed record ProcessedDocument(
    DocumentInfo Info,
    StepOutput<ExtractedText> RawText,
    StepOutput<string> CleanText,
    StepOutput<ProcessedPage> Image,
    StepOutput<float[]> Embedding,
    StepOutput<float[]>? Regions,
    IReadOnlyDictionary<string, double> TimingsMs);

/// <summary>
/// The stages of one document, written once: inspect, OCR (or a PDF's text layer) beside image preprocessing, cleaning,
/// encoding, and the region features when wanted. The pipeline's resumable stages call its steps one by one on stored
/// documents; a prediction, <c>evaluate</c> and the benchmarks call <see cref="ProcessAsync"/> on a file. Each step returns
/// what it made with its processor name and version, so a prediction's upload can be stored with the same lineage the
/// pipeline would have written (<see cref="DocumentLineage"/>).
/// </summary>
public sealed class DocumentProcessor(
    IDocumentInspector inspector, ITextExtractor extractor, IImagePreprocessor images, DsdcPaths paths, IServiceProvider services)
{
    // The encoders load their sessions when first created (a second, a few hundred MB): only when a step needs them.
    private readonly Lazy<IDocumentEncoder> _encoder = new(services.GetRequiredService<IDocumentEncoder>);
    private readonly Lazy<RegionEncoder> _regions = new(services.GetRequiredService<RegionEncoder>);

    public IDocumentEncoder Encoder => _encoder.Value;

    public string ImageProcessor => images.Processor;
    public string ImageVersion => images.Version;
    public string OcrProcessor => extractor.Processor;
    public string OcrVersion => extractor.ProcessorVersion;
    public static string CleanProcessor => TextCleaner.Processor;
    public static string CleanVersion => TextCleaner.Version;
    public string RegionsVersion => _regions.Value.Version;

    /// <summary>
    /// Where the image step keeps a document's processed page, relative to the data folder:
    /// <c>processed/{id[0]}/{id[1]}/{id}.{processor}-{version}.png</c> (processor and version made safe for a file name).
    /// The pipeline's image stage and a prediction's upload both write there.
    /// </summary>
    public string ProcessedImagePath(string documentId) => ProcessedImagePath(documentId, images.Processor, images.Version);

    public static string ProcessedImagePath(string documentId, string processor, string version) =>
        Path.Combine("processed", documentId[..1], documentId[1..2], $"{documentId}.{Slug(processor)}-{Slug(version)}.png");

    /// <summary>An absolute path for a path relative to the data folder.</summary>
    public string DataPath(string relative) => Path.Combine(paths.DataDir, relative);

    /// <exception cref="InvalidDocumentException">the file is not a document this system reads.</exception>
    public DocumentInfo Inspect(string path) => inspector.Inspect(path);

    /// <summary>The text of every page: OCR, or a born-digital PDF's own text layer (the result names which).</summary>
    public async Task<StepOutput<ExtractedText>> ExtractTextAsync(string path, DocumentFormat format, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var text = await extractor.ExtractAsync(path, format, ct);
        return new StepOutput<ExtractedText>(text, text.Processor, text.ProcessorVersion, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>The first page as an RGB 224x224 PNG written (atomically) at <paramref name="pngPath"/>.</summary>
    public StepOutput<ProcessedImage> ProcessImage(string path, DocumentFormat format, string pngPath)
    {
        var watch = Stopwatch.StartNew();
        var result = images.Process(path, format, pngPath);
        return new StepOutput<ProcessedImage>(result, images.Processor, images.Version, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>A processed page's pixels, read back from its PNG (what the encoder and the layout view read).</summary>
    public RgbImage ReadProcessedImage(string pngPath) => RgbImage.FromProcessed(images.ReadProcessed(pngPath));

    /// <summary>The cleaning rules applied to a raw text.</summary>
    public static StepOutput<string> Clean(string rawText)
    {
        var watch = Stopwatch.StartNew();
        var clean = TextCleaner.Clean(rawText);
        return new StepOutput<string>(clean, TextCleaner.Processor, TextCleaner.Version, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>The vector of one document from its processed page and its CLEANED text.</summary>
    public StepOutput<float[]> Encode(RgbImage page, string cleanText, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var vector = Encoder.Embed(new EncoderInput(page, cleanText), ct);
        return new StepOutput<float[]>(vector, Encoder.Id, Encoder.Version, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>The vectors of a batch of documents (processed page and cleaned text each), in order.</summary>
    public IReadOnlyList<float[]> EncodeBatch(IReadOnlyList<EncoderInput> inputs, CancellationToken ct) => Encoder.EmbedBatch(inputs, ct);

    /// <summary>The <c>regions</c> page features of a document's first page, from the original file.</summary>
    public StepOutput<float[]> EncodeRegions(string path, DocumentFormat format, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var regions = _regions.Value;
        var features = regions.Encode(path, format, ct);
        return new StepOutput<float[]>(features, RegionEncoder.Kind, regions.Version, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// Every step on one file: inspect, then OCR beside image preprocessing (and the region features when
    /// <paramref name="regions"/>), then cleaning and encoding. The processed page is written at
    /// <paramref name="pngPath"/> and kept there (for <see cref="DocumentLineage"/> to store), or, without one, in a
    /// temporary folder that is deleted.
    /// </summary>
    /// <exception cref="InvalidDocumentException">the file is not a readable document.</exception>
    public async Task<ProcessedDocument> ProcessAsync(string path, string? pngPath, bool regions, CancellationToken ct)
    {
        var timings = new Dictionary<string, double>();
        var watch = Stopwatch.StartNew();
        var info = Inspect(path);
        timings["inspect"] = watch.Elapsed.TotalMilliseconds;

        // OCR and image preprocessing are independent: side by side.
        var textTask = Task.Run(async () =>
        {
            var raw = await ExtractTextAsync(path, info.Format, ct);
            return (raw, Clean(raw.Value.Text));
        }, ct);
        var imageTask = Task.Run(() =>
        {
            var temp = pngPath is null ? Directory.CreateTempSubdirectory("dsdc-process-") : null;
            try
            {
                var png = pngPath ?? Path.Combine(temp!.FullName, "page.png");
                var watch = Stopwatch.StartNew();
                var made = ProcessImage(path, info.Format, png);
                var pixels = ReadProcessedImage(png);
                return new StepOutput<ProcessedPage>(new ProcessedPage(png, made.Value.Width, made.Value.Height, pixels),
                    made.Processor, made.Version, watch.Elapsed.TotalMilliseconds);
            }
            finally
            {
                temp?.Delete(recursive: true);
            }
        }, ct);
        var regionTask = regions ? Task.Run(() => EncodeRegions(path, info.Format, ct), ct) : null;

        // When one step fails, the others are waited for before the failure goes up: none may still be writing the
        // processed page (or reading the upload) after the caller has cleaned up its files.
        Task[] steps = regionTask is null ? [textTask, imageTask] : [textTask, imageTask, regionTask];
        try
        {
            await Task.WhenAll(steps);
        }
        catch
        {
            // Task.WhenAll has waited for every step; the first failure of the first failed step is rethrown as it was.
            var failed = steps.First(t => t.IsFaulted || t.IsCanceled);
            await failed;
            throw;
        }
        var (rawText, cleanText) = await textTask;
        var image = await imageTask;
        timings["ocr"] = rawText.Milliseconds;
        timings["clean"] = cleanText.Milliseconds;
        timings["image"] = image.Milliseconds;
        var embedding = Encode(image.Value.Pixels, cleanText.Value, ct);
        timings["encode"] = embedding.Milliseconds;
        StepOutput<float[]>? regionFeatures = null;
        if (regionTask is not null)
        {
            regionFeatures = await regionTask;
            timings["regions"] = regionFeatures.Milliseconds;
        }
        return new ProcessedDocument(info, rawText, cleanText, image, embedding, regionFeatures, timings);
    }

    private static string Slug(string s) => string.Concat(s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '-'));
}
