using Dsdc.Embedding;
using Dsdc.Shared;
using Dsdc.Tests.Embedding;
using Dsdc.Training.FineTuning;
using static TorchSharp.torch;

namespace Dsdc.Tests.Training;

/// <summary>ResNet18 in TorchSharp started from the bundled ONNX weights, the page augmentations and the fine-tuning loop.</summary>
public sealed class FineTuningTests
{
    private static readonly string Bundled = Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18");

    private static ResNet18 Pretrained() => ResNet18.FromBundled();

    [Fact]
    public void TheTorchSharpNetworkGivesTheOnnxEncodersFeatures()
    {
        var random = new Random(7);
        var pages = Enumerable.Range(0, 3).Select(_ => Page(random, random.Next(2))).ToList();
        using var onnx = new ResNet18ImageEncoder(EmbeddingTestKit.Sessions(), Bundled);
        var expected = onnx.Encode(pages.Select(p => new RgbImage(ResNet18.Size, ResNet18.Size, p)).ToList(), CancellationToken.None);

        using var net = Pretrained();
        net.eval();
        using var input = ResNet18.Input(pages);
        using var features = net.Features(input);
        var values = features.data<float>().ToArray();
        for (var i = 0; i < pages.Count; i++)
        {
            var ours = Vectors.Normalize(values.AsSpan(i * ResNet18.FeatureDimensions, ResNet18.FeatureDimensions).ToArray());
            var worst = ours.Zip(expected[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-4, $"page {i}: TorchSharp and ONNX Runtime differ by {worst:E2}");
        }
    }

    [Fact]
    public void AugmentationsAreSeededKeepThePageShapeAndChangeIt()
    {
        var random = new Random(3);
        using var pages = ResNet18.Input([Page(random, 0), Page(random, 1)]);
        using var a = new PageAugmenter(11).Apply(pages);
        using var b = new PageAugmenter(11).Apply(pages);
        using var c = new PageAugmenter(12).Apply(pages);
        Assert.Equal(pages.shape, a.shape);
        Assert.Equal(0f, (a - b).abs().max().item<float>());
        Assert.True((a - c).abs().max().item<float>() > 0, "different seeds gave the same augmentations");
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 255, "values left 0-255");
        Assert.True((a - pages).abs().mean().item<float>() > 1, "the augmentation left the pages unchanged");
    }

    [Fact]
    public void FineTuningLearnsAPageLayoutAndNeverPredictsAnUnseenClass()
    {
        // Two "classes" of synthetic pages: ruled across (a form's lines) or down (columns), at random offsets.
        var random = new Random(5);
        var labels = Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? 3 : 9).ToList();
        var pages = labels.Select(l => Page(random, l == 3 ? 0 : 1)).ToList();
        using var net = Pretrained();
        using var cache = TrunkCache.Build(net, pages.Count, batch => ResNet18.Input(batch.Select(i => pages[i]).ToList()), 2, 1, CancellationToken.None);
        var train = Enumerable.Range(0, 12).Select(i => (i, labels[i])).ToList();
        var test = Enumerable.Range(12, 4).ToList();

        var probabilities = FineTuner.FitPredict(Pretrained, cache, train, test, new FineTuneSettings(Epochs: 3, BatchSize: 8), CancellationToken.None);

        for (var j = 0; j < test.Count; j++)
        {
            Assert.Equal(labels[test[j]], Array.IndexOf(probabilities[j], probabilities[j].Max()));
            Assert.Equal(1, probabilities[j].Sum(), 3);
            Assert.All(Enumerable.Range(0, DocumentClasses.Count).Where(c => c is not (3 or 9)), c => Assert.Equal(0f, probabilities[j][c]));
        }
    }

    /// <summary>A white 224x224 page with dark bars across (<paramref name="kind"/> 0) or down (1).</summary>
    private static byte[] Page(Random random, int kind)
    {
        var rgb = new byte[ResNet18.Size * ResNet18.Size * 3];
        Array.Fill(rgb, (byte)255);
        var offset = random.Next(12);
        for (var y = 0; y < ResNet18.Size; y++)
        for (var x = 0; x < ResNet18.Size; x++)
        {
            var along = kind == 0 ? y : x;
            if ((along + offset) % 24 < 5)
                rgb[(y * ResNet18.Size + x) * 3] = rgb[(y * ResNet18.Size + x) * 3 + 1] = rgb[(y * ResNet18.Size + x) * 3 + 2] = (byte)random.Next(0, 60);
        }
        return rgb;
    }
}
