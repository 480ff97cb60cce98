using Microsoft.ML.OnnxRuntime;

namespace Dsdc.Embedding;

/// <summary>
/// CLIP's vision tower with CLIP's own preprocessing: shorter side to 224 (bicubic), centre crop, scale to 0-1, then
/// the per-channel mean and standard deviation of CLIP's training set; <c>image_embeds</c> (512) L2-normalised.
/// </summary>
internal sealed class ClipImageEncoder(OnnxSessionFactory sessions, string modelPath) : IImageEncoderPart
{
    private const int Size = 224;
    private static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    private static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];
    private readonly InferenceSession _session = sessions.Create(modelPath);
    private readonly string[] _input = ["pixel_values"];
    private readonly string[] _output = ["image_embeds"];

    public int Dimensions => _session.OutputMetadata["image_embeds"].Dimensions[^1] is > 0 and var d ? d : 512;

    public float[][] Encode(IReadOnlyList<RgbImage> images, CancellationToken ct)
    {
        var pixels = Preprocess(images);
        using var run = new RunOptions();
        using var cancel = ct.Register(() => run.Terminate = true);
        return Run(pixels, images.Count, run);
    }

    internal float[][] Run(float[] pixels, int count, RunOptions run)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [count, 3, Size, Size]);
        using var outputs = _session.Run(run, _input, [input], _output);
        return Vectors.NormalizedRows(outputs[0].GetTensorDataAsSpan<float>(), count, Dimensions);
    }

    /// <summary>Planar, normalised [count, 3, 224, 224].</summary>
    internal static float[] Preprocess(IReadOnlyList<RgbImage> images)
    {
        const int plane = Size * Size;
        var pixels = new float[images.Count * 3 * plane];
        for (var n = 0; n < images.Count; n++)
        {
            var rgb = BicubicResampler.ResizeShorterSideAndCrop(images[n], Size).Pixels;
            var offset = n * 3 * plane;
            for (var p = 0; p < plane; p++)
            for (var c = 0; c < 3; c++)
                pixels[offset + c * plane + p] = (rgb[3 * p + c] / 255f - Mean[c]) / Std[c];
        }
        return pixels;
    }

    public void Dispose() => _session.Dispose();
}
