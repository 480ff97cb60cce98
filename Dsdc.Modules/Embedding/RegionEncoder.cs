using Dsdc.ImageProcessing;
using Microsoft.Extensions.Options;

namespace Dsdc.Embedding;

/// <summary>
/// The <c>regions</c> view of a page: ResNet18 (ImageNet) features of each region of the configured set
/// (<see cref="EmbeddingOptions.RegionSet"/>: <see cref="PageRegions.AllRegions"/> by default), each L2-normalised,
/// concatenated in <see cref="PageRegions.All"/>'s order (11 x 512 values by default). Always ResNet18, whatever the
/// configured encoder, since the bundled weights are always there. Stored in <c>embedding.page_features</c> by the
/// embedding stage, computed the same way for an uploaded file at prediction time.
/// </summary>
public sealed class RegionEncoder : IDisposable
{
    public const string Kind = "regions";
    private const int ResNetDimensions = 512;
    private readonly ResNet18ImageEncoder _resnet;
    private readonly IImagePreprocessor _images;
    private readonly RegionSet _set;

    public RegionEncoder(OnnxSessionFactory sessions, IImagePreprocessor images, IOptions<EmbeddingOptions> options)
        : this(new ResNet18ImageEncoder(sessions, Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18")), images, SetOf(options.Value))
    {
    }

    internal RegionEncoder(ResNet18ImageEncoder resnet, IImagePreprocessor images, RegionSet set)
    {
        _resnet = resnet;
        _images = images;
        _set = set;
    }

    /// <summary>The configured set; the options validator has refused an unknown name before this runs.</summary>
    public static RegionSet SetOf(EmbeddingOptions options) => PageRegions.Named(options.RegionSet)
        ?? throw new InvalidOperationException($"{EmbeddingOptions.Section}:{nameof(EmbeddingOptions.RegionSet)}: unknown region set '{options.RegionSet}'");

    /// <summary>How many values the features of <paramref name="set"/> have, without loading the network.</summary>
    public static int DimensionsOf(RegionSet set) => set.Regions.Count * ResNetDimensions;

    public RegionSet Set => _set;

    public int Dimensions => DimensionsOf(_set);

    /// <summary>Changes with the regions' pixels (the set, the page preprocessing) or the network.</summary>
    public string Version => $"resnet18-1;{_images.RegionsVersion(_set)}";

    /// <summary>The features of a document's first page.</summary>
    public float[] Encode(string sourcePath, DocumentFormat format, CancellationToken ct = default)
    {
        var regions = _images.Regions(sourcePath, format, _set);
        var parts = _resnet.Encode(regions.Select(r => new RgbImage(PageRegions.Size, PageRegions.Size, r)).ToList(), ct);
        var result = new float[Dimensions];
        for (var i = 0; i < parts.Length; i++) parts[i].CopyTo(result, i * _resnet.Dimensions);
        return result;
    }

    public void Dispose() => _resnet.Dispose();
}
