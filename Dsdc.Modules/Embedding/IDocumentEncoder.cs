namespace Dsdc.Embedding;

/// <summary>An RGB image as interleaved bytes (R, G, B per pixel, row-major), what <c>IImagePreprocessor.ReadProcessed</c> returns.</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    public const int ProcessedSize = 224;

    /// <summary>Wraps the 224x224 RGB bytes of a processed image.</summary>
    public static RgbImage FromProcessed(byte[] rgb) =>
        rgb.Length == ProcessedSize * ProcessedSize * 3
            ? new RgbImage(ProcessedSize, ProcessedSize, rgb)
            : throw new ArgumentException($"a processed image has {ProcessedSize * ProcessedSize * 3} bytes, not {rgb.Length}", nameof(rgb));
}

/// <summary>What one document is embedded from: its processed image and its processed text.</summary>
public sealed record EncoderInput(RgbImage Image, string Text);

/// <summary>
/// Turns documents into vectors: the image part and the text part, each L2-normalised, concatenated (image first).
/// One instance serves the whole process and is safe to call from several threads at once.
/// Inference embeds one uploaded document with <see cref="Embed"/>; the pipeline embeds batches with <see cref="EmbedBatch"/>;
/// training reads the stored vectors of one (<see cref="Id"/>, <see cref="Version"/>).
/// </summary>
public interface IDocumentEncoder
{
    /// <summary>Stable name stored with each vector, e.g. <c>resnet18-minilm</c>.</summary>
    string Id { get; }

    /// <summary>Changes whenever weights or preprocessing change, so old vectors are never mixed with new ones.</summary>
    string Version { get; }

    int ImageDimensions { get; }
    int TextDimensions { get; }

    /// <summary><see cref="ImageDimensions"/> + <see cref="TextDimensions"/>.</summary>
    int Dimensions { get; }

    /// <summary>The image parts of a batch, each of <see cref="ImageDimensions"/> values and unit norm.</summary>
    IReadOnlyList<float[]> EmbedImages(IReadOnlyList<RgbImage> images, CancellationToken ct = default);

    /// <summary>The text parts of a batch, each of <see cref="TextDimensions"/> values and unit norm.</summary>
    IReadOnlyList<float[]> EmbedTexts(IReadOnlyList<string> texts, CancellationToken ct = default);

    /// <summary>Full vectors (image part then text part) of a batch.</summary>
    IReadOnlyList<float[]> EmbedBatch(IReadOnlyList<EncoderInput> inputs, CancellationToken ct = default);

    /// <summary>The full vector of one document.</summary>
    float[] Embed(EncoderInput input, CancellationToken ct = default);
}
