using Dsdc.Embedding;
using Dsdc.ImageProcessing;

namespace Dsdc.Pipeline;

/// <summary>
/// Stores what <see cref="DocumentProcessor.ProcessAsync"/> made for a document (a prediction's upload) as the rows the
/// pipeline's stages would have written: processed image (its PNG at the image stage's path), raw text, processed text,
/// embedding, and the region features when they were computed. The pipeline then finds nothing missing for it.
/// Each insert is idempotent and they come in stage order, so an interruption leaves a prefix of the lineage that the
/// pipeline completes like any other document's.
/// </summary>
public sealed class DocumentLineage(DocumentProcessor processor, StageStore stages, EmbeddingStore embeddings)
{
    /// <summary>Stores <paramref name="processed"/> as the lineage of <paramref name="documentId"/> (a stored document).</summary>
    public async Task StoreAsync(string documentId, ProcessedDocument processed, CancellationToken ct)
    {
        var image = processed.Image;
        var relative = processor.ProcessedImagePath(documentId);
        var target = processor.DataPath(relative);
        // The PNG first, complete or not at all, at the path the image stage would use; the row only once it is there.
        if (!string.Equals(Path.GetFullPath(image.Value.PngPath), Path.GetFullPath(target), StringComparison.Ordinal))
            AtomicFile.Write(target, await File.ReadAllBytesAsync(image.Value.PngPath, ct));
        var imageId = await stages.AddProcessedImageAsync(documentId, relative, image.Value.Width, image.Value.Height, image.Processor, image.Version, ct);

        var rawTextId = await stages.AddRawTextAsync(documentId, processed.RawText, ct);
        var clean = processed.CleanText;
        var textId = await stages.AddProcessedTextAsync(rawTextId, documentId, clean.Value, clean.Processor, clean.Version, ct);

        var vector = processed.Embedding;
        await embeddings.AddAsync(documentId, imageId, textId, vector.Processor, vector.Version, vector.Value, ct);
        if (processed.Regions is { } regions)
            await embeddings.AddFeaturesAsync(documentId, regions.Processor, regions.Version, regions.Value, ct);
    }
}
