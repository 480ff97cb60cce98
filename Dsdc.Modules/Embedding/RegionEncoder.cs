using Dsdc.ImageProcessing;

namespace Dsdc.Embedding;

/// <summary>
/// The <c>regions</c> view of a page: ResNet18 (ImageNet) features of each of <see cref="PageRegions.All"/>, each
/// L2-normalised, concatenated in that order (11 x 512 values). Always ResNet18, whatever the configured encoder, since
/// the bundled weights are always there. Stored in <c>embedding.page_features</c> by the embedding stage, computed the same way
/// for an uploaded file at prediction time.
/// </summary>
public sealed class RegionEncoder : IDisposable
{
    public const string Kind = "regions";
    private readonly ResNet18ImageEncoder _resnet;
    private readonly IImagePreprocessor _images;

    public RegionEncoder(OnnxSessionFactory sessions, IImagePreprocessor images)
        : this(new ResNet18ImageEncoder(sessions, Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18")), images)
    {
    }

    internal RegionEncoder(ResNet18ImageEncoder resnet, IImagePreprocessor images)
    {
        _resnet = resnet;
        _images = images;
    }

    public int Dimensions => PageRegions.All.Count * _resnet.Dimensions;

    /// <summary>Changes with the regions' pixels (the page preprocessing) or the network.</summary>
    public string Version => $"resnet18-1;{_images.RegionsVersion}";

    /// <summary>The features of a document's first page.</summary>
    public float[] Encode(string sourcePath, DocumentFormat format, CancellationToken ct = default)
    {
        var regions = _images.Regions(sourcePath, format);
        var parts = _resnet.Encode(regions.Select(r => new RgbImage(PageRegions.Size, PageRegions.Size, r)).ToList(), ct);
        var result = new float[Dimensions];
        for (var i = 0; i < parts.Length; i++) parts[i].CopyTo(result, i * _resnet.Dimensions);
        return result;
    }

    public void Dispose() => _resnet.Dispose();
}
