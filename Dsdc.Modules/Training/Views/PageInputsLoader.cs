using Dsdc.ImageProcessing;
using Dsdc.Shared;

namespace Dsdc.Training;

/// <summary>Builds the <see cref="PageInputs"/> of stored documents: the raw text and the processed PNG the vector came from.</summary>
public sealed partial class PageInputsLoader(IImagePreprocessor images, Dsdc.Embedding.IDocumentEncoder encoder, DsdcPaths paths,
    Microsoft.Extensions.Logging.ILogger<PageInputsLoader> logger)
{
    public PageInputs Load(StoredExample e) => Load(e.Example.Vector, e.RawText, e.ImagePath, e.Regions, e.RawReadings);

    /// <summary>
    /// As <see cref="Load(StoredExample)"/> for training: a processed page that cannot be read any more (damaged on disk)
    /// reads as a blank page, as a missing one does, and is logged; one document's file does not stop every training job.
    /// </summary>
    /// <remarks>The page is decoded on the first read of <see cref="PageInputs.Layout"/>, by a model with a layout view:
    /// a job whose candidates read none (the default ones), or that skips, decodes no page.</remarks>
    public PageInputs LoadForTraining(StoredExample e)
    {
        var png = e.ImagePath is null ? null : Path.Combine(paths.DataDir, e.ImagePath);
        var documentId = e.Example.DocumentId; // what the reader keeps: not the example, whose arrays copies may replace
        return new PageInputs(e.Example.Vector, e.RawText ?? "", () =>
        {
            try
            {
                return ReadLayout(png);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                LogUnreadablePage(documentId, ex.Message);
                return new float[PageLayout.Dimensions];
            }
        }) { Regions = e.Regions, ImageDimensions = encoder.ImageDimensions, Readings = e.RawReadings };
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "The processed page of document {DocumentId} cannot be read ({Error}): it trains as a blank page")]
    private partial void LogUnreadablePage(string documentId, string error);

    /// <param name="vector">the stored vector</param>
    /// <param name="rawText">the raw OCR text the vector's cleaned text came from</param>
    /// <param name="imagePath">the processed page, relative to the data folder</param>
    /// <param name="regions">the stored region features, if any</param>
    /// <param name="readings">the raw text's extra OCR readings, if any</param>
    public PageInputs Load(float[] vector, string? rawText, string? imagePath, float[]? regions, string? readings = null)
    {
        // A document whose processed image is gone still trains its text and vector views; its layout reads as a blank page.
        var png = imagePath is null ? null : Path.Combine(paths.DataDir, imagePath);
        return new PageInputs(vector, rawText ?? "", ReadLayout(png)) { Regions = regions, ImageDimensions = encoder.ImageDimensions, Readings = readings };
    }

    private float[] ReadLayout(string? png) =>
        png is not null && File.Exists(png) ? PageLayout.FromRgb(images.ReadProcessed(png)) : new float[PageLayout.Dimensions];
}
