using Dsdc.ImageProcessing;
using Dsdc.Shared;

namespace Dsdc.Training;

/// <summary>Builds the <see cref="PageInputs"/> of stored documents: the raw text and the processed PNG the vector came from.</summary>
public sealed class PageInputsLoader(IImagePreprocessor images, Dsdc.Embedding.IDocumentEncoder encoder, DsdcPaths paths)
{
    public PageInputs Load(StoredExample e)
    {
        // A document whose processed image is gone still trains its text and vector views; its layout reads as a blank page.
        var png = e.ImagePath is null ? null : Path.Combine(paths.DataDir, e.ImagePath);
        var layout = png is not null && File.Exists(png) ? PageLayout.FromRgb(images.ReadProcessed(png)) : new float[PageLayout.Dimensions];
        return new PageInputs(e.Example.Vector, e.RawText ?? "", layout) { Regions = e.Regions, ImageDimensions = encoder.ImageDimensions };
    }
}
