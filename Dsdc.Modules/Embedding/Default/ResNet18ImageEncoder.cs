using Microsoft.ML.OnnxRuntime;

namespace Dsdc.Embedding;

/// <summary>
/// ResNet18 trained on ImageNet (the ML.NET DnnImageFeaturizer package): its own preprocessing graph (RGB to BGR,
/// minus the mean image) then the network up to its global average pool, 512 values. Both graphs take batch 1 only.
/// </summary>
internal sealed class ResNet18ImageEncoder : IImageEncoderPart
{
    private const int Size = RgbImage.ProcessedSize;
    private static readonly long[] Shape = [1, 3, Size, Size];

    private readonly InferenceSession _prepare;
    private readonly InferenceSession _network;
    private readonly string[] _prepareInput = ["OriginalInput"];
    private readonly string[] _prepareOutput = ["PreprocessedInput"];
    private readonly string[] _networkInput = ["Input247"];
    private readonly string[] _networkOutput = ["Pooling395_Output_0"];

    public ResNet18ImageEncoder(OnnxSessionFactory sessions, string folder)
    {
        _prepare = sessions.Create(Path.Combine(folder, "ResNetPreprocess.onnx"));
        try
        {
            _network = sessions.Create(Path.Combine(folder, "ResNet18.onnx"));
        }
        catch
        {
            _prepare.Dispose();
            throw;
        }
    }

    public int Dimensions => 512;

    public float[][] Encode(IReadOnlyList<RgbImage> images, CancellationToken ct)
    {
        var result = new float[images.Count][];
        var planar = new float[3 * Size * Size];
        using var run = new RunOptions();
        using var cancel = ct.Register(() => run.Terminate = true);
        for (var i = 0; i < images.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            ToPlanar(images[i], planar);
            result[i] = Run(planar, run);
        }
        return result;
    }

    /// <summary>Both graphs on one image given as planar RGB 0-255 [3, 224, 224]; public for the benchmark's bare loop.</summary>
    internal float[] Run(float[] planar, RunOptions run)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(planar, Shape);
        using var prepared = _prepare.Run(run, _prepareInput, [input], _prepareOutput);
        using var pooled = _network.Run(run, _networkInput, [prepared[0]], _networkOutput);
        return Vectors.Normalize(pooled[0].GetTensorDataAsSpan<float>().ToArray());
    }

    /// <summary>Interleaved RGB bytes to planar floats 0-255, resizing first when the image is not 224x224.</summary>
    internal static void ToPlanar(RgbImage image, float[] planar)
    {
        if (image.Width != Size || image.Height != Size)
            image = BicubicResampler.Resize(image, Size, Size);
        var pixels = image.Pixels;
        const int plane = Size * Size;
        for (var p = 0; p < plane; p++)
        {
            planar[p] = pixels[3 * p];
            planar[plane + p] = pixels[3 * p + 1];
            planar[2 * plane + p] = pixels[3 * p + 2];
        }
    }

    public void Dispose()
    {
        _network.Dispose();
        _prepare.Dispose();
    }
}
