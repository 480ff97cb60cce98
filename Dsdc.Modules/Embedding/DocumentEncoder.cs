namespace Dsdc.Embedding;

/// <summary>An image part and a text part under one id and version; the vector is their concatenation.</summary>
internal sealed class DocumentEncoder(string id, string version, IImageEncoderPart image, ITextEncoderPart text)
    : IDocumentEncoder, IDisposable
{
    public string Id => id;
    public string Version => version;
    public int ImageDimensions => image.Dimensions;
    public int TextDimensions => text.Dimensions;
    public int Dimensions => image.Dimensions + text.Dimensions;

    public IReadOnlyList<float[]> EmbedImages(IReadOnlyList<RgbImage> images, CancellationToken ct = default) =>
        images.Count == 0 ? [] : image.Encode(images, ct);

    public IReadOnlyList<float[]> EmbedTexts(IReadOnlyList<string> texts, CancellationToken ct = default) =>
        texts.Count == 0 ? [] : text.Encode(texts, ct);

    public IReadOnlyList<float[]> EmbedBatch(IReadOnlyList<EncoderInput> inputs, CancellationToken ct = default)
    {
        var images = EmbedImages(inputs.Select(i => i.Image).ToList(), ct);
        var texts = EmbedTexts(inputs.Select(i => i.Text).ToList(), ct);
        var vectors = new float[inputs.Count][];
        for (var i = 0; i < vectors.Length; i++)
            vectors[i] = [.. images[i], .. texts[i]];
        return vectors;
    }

    public float[] Embed(EncoderInput input, CancellationToken ct = default) => EmbedBatch([input], ct)[0];

    public void Dispose()
    {
        image.Dispose();
        text.Dispose();
    }
}
