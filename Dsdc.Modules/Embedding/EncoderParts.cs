namespace Dsdc.Embedding;

/// <summary>The image half of an encoder: unit-norm vectors, one per image, in order.</summary>
internal interface IImageEncoderPart : IDisposable
{
    int Dimensions { get; }
    float[][] Encode(IReadOnlyList<RgbImage> images, CancellationToken ct);
}

/// <summary>The text half of an encoder: unit-norm vectors, one per text, in order.</summary>
internal interface ITextEncoderPart : IDisposable
{
    int Dimensions { get; }
    float[][] Encode(IReadOnlyList<string> texts, CancellationToken ct);
}
