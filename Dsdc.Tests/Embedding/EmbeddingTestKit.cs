using System.Text.RegularExpressions;
using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Embedding;

/// <summary>Encoders built once per test run (their sessions are the slow part), real pages, the real image preprocessor.</summary>
internal static partial class EmbeddingTestKit
{
    private static readonly Lazy<IDocumentEncoder> LazyDefault = new(() =>
        new EncoderCatalog(Sessions(), Paths(Path.GetTempPath())).Create(EncoderIds.Default));

    public static IDocumentEncoder DefaultEncoder => LazyDefault.Value;

    private static readonly Lazy<RegionEncoder> LazyRegions = new(() => new RegionEncoder(Sessions(), Preprocessor(), Options.Create(new EmbeddingOptions())));

    /// <summary>The region features' encoder (ResNet18 on the page's regions), shared by the tests of a run.</summary>
    public static RegionEncoder Regions => LazyRegions.Value;

    public static OnnxSessionFactory Sessions(bool useCuda = false, ILogger<OnnxSessionFactory>? logger = null) =>
        new(Options.Create(new EmbeddingOptions { UseCuda = useCuda, IntraOpThreads = 2 }), logger ?? NullLogger<OnnxSessionFactory>.Instance);

    public static DsdcPaths Paths(string root, string? modelsDir = null) =>
        new(root, new DsdcOptions { DataDir = Path.Combine(root, "data"), ModelsDir = modelsDir ?? Path.Combine(root, "models") });

    /// <summary>The pipeline's own preprocessing (ImageProcessing module), so test vectors match production ones.</summary>
    public static IImagePreprocessor Preprocessor()
    {
        var options = Options.Create(new ImagingOptions());
        return new ImagePreprocessor(new ImageDecoder(options), new PdfPageRenderer(options, NullLogger<PdfPageRenderer>.Instance), options);
    }

    /// <summary>
    /// The document processor over the test encoders and preprocessor, for the embedding stage, which reads processed
    /// pages and encodes them (its OCR step is not available here).
    /// </summary>
    public static DocumentProcessor Processor(DsdcPaths paths)
    {
        var services = new ServiceCollection().AddSingleton(DefaultEncoder).AddSingleton(Regions).BuildServiceProvider();
        var options = Options.Create(new ImagingOptions());
        return new DocumentProcessor(new DocumentInspector(new ImageDecoder(options), new PdfPages(new ImageDecoder(options), options), options), new NoOcr(), Preprocessor(), paths, services);
    }

    private sealed class NoOcr : Dsdc.Ocr.ITextExtractor
    {
        public string Processor => "none";
        public string ProcessorVersion => "none";

        public Task<Dsdc.Ocr.ExtractedText> ExtractAsync(string path, DocumentFormat format, CancellationToken ct) =>
            throw new NotSupportedException("no OCR in the embedding tests");
    }

    public static string DatasetsRoot =>
        Environment.GetEnvironmentVariable("DSDC_TEST_DATASETS") is { Length: > 0 } root ? root : "/work/shared/datasets";

    /// <summary>A dataset file by its path under the datasets root; missing data fails the test.</summary>
    public static string DatasetFile(string relative)
    {
        var path = Path.Combine(DatasetsRoot, relative);
        return File.Exists(path) ? path : throw new FileNotFoundException($"dataset file {relative} is missing under {DatasetsRoot} (DSDC_TEST_DATASETS)", path);
    }

    /// <summary>Image pages (no PDF) of one class, in a stable order.</summary>
    public static IReadOnlyList<string> ClassPages(int label) =>
        Directory.EnumerateFiles(DatasetsRoot, "*", SearchOption.AllDirectories)
            .Where(p => ClassFolder().Match(Path.GetFileName(Path.GetDirectoryName(p))!) is { Success: true } m && int.Parse(m.Groups[1].Value) == label)
            .Where(p => Format(p) is not null)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Preprocesses a page as the pipeline does (a PNG under <paramref name="workDir"/>) and reads it back.</summary>
    public static (string Png, RgbImage Image) ProcessPage(string source, string workDir)
    {
        var preprocessor = Preprocessor();
        var png = Path.Combine(workDir, Path.GetFileNameWithoutExtension(source) + "-" + Guid.NewGuid().ToString("N")[..6] + ".png");
        preprocessor.Process(source, Format(source) ?? throw new ArgumentException($"not an image page: {source}"), png);
        return (png, RgbImage.FromProcessed(preprocessor.ReadProcessed(png)));
    }

    private static DocumentFormat? Format(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".tif" or ".tiff" => DocumentFormat.Tiff,
        ".png" => DocumentFormat.Png,
        ".jpg" or ".jpeg" => DocumentFormat.Jpeg,
        _ => null,
    };

    [GeneratedRegex(@"^(\d+)_")]
    private static partial Regex ClassFolder();
}
