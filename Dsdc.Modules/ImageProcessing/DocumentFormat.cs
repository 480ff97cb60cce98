namespace Dsdc.ImageProcessing;

/// <summary>The file formats DSDC accepts, recognised by their content (magic bytes), never by their extension.</summary>
public enum DocumentFormat
{
    Tiff,
    Png,
    Jpeg,
    Bmp,
    Pdf,
}

/// <summary>What inspecting a valid document found.</summary>
/// <param name="Width">Width of the first page in pixels (for PDF: at the rendering resolution).</param>
public sealed record DocumentInfo(DocumentFormat Format, string MediaType, string Extension, int PageCount, int Width, int Height);

/// <summary>
/// Why a document cannot be processed; <see cref="ReasonCode"/> is a short stable code (metrics, database), the message
/// is for a person. Codes: empty-file, too-large, unsupported-format, corrupt, too-many-pixels, too-many-pages, encrypted, ocr-failed.
/// </summary>
public sealed class InvalidDocumentException(string reasonCode, string message) : Exception(message)
{
    public string ReasonCode { get; } = reasonCode;
}

/// <summary>Checks that a file is a document DSDC can read, within the configured limits, without decoding it all.</summary>
public interface IDocumentInspector
{
    /// <exception cref="InvalidDocumentException">the file is empty, too large, not a supported format, corrupt...</exception>
    DocumentInfo Inspect(string path);

    /// <summary>What <see cref="Inspect"/> refuses without reading the file (its size), before anything reads it whole.</summary>
    /// <exception cref="InvalidDocumentException">the file is empty or too large.</exception>
    void CheckFile(string path) { }
}

public sealed record ProcessedImage(int Width, int Height);

/// <summary>
/// Turns the first page of a document into the classifier's image input: RGB, 224x224, written as a PNG.
/// Training, the pipeline and prediction all go through this one implementation, so they use the same resampler.
/// </summary>
public interface IImagePreprocessor
{
    string Processor { get; }
    string Version { get; }

    ProcessedImage Process(string sourcePath, DocumentFormat format, string outputPngPath);

    /// <summary>Reads a PNG written by <see cref="Process"/> back as interleaved RGB bytes (224*224*3, row-major).</summary>
    byte[] ReadProcessed(string pngPath);

    /// <summary>
    /// The first page's regions of <paramref name="set"/> (whole page, header, footer, halves, quadrants...), each as
    /// 224x224 interleaved RGB bytes, cut from the page at <see cref="PageRegions.BaseWidth"/> x <see cref="PageRegions.BaseHeight"/>.
    /// </summary>
    IReadOnlyList<byte[]> Regions(string sourcePath, DocumentFormat format, RegionSet set);

    /// <summary>Changes whenever <see cref="Regions"/> would give other pixels for a set of the same version.</summary>
    string RegionsVersion(RegionSet set);
}
