using Dsdc.Tests.Infrastructure;
using Dsdc.Training;

namespace Dsdc.Tests.Training;

public sealed class OnnxExportTests
{
    [Theory]
    [InlineData("mlp12")]
    [InlineData("mlp11")]
    [InlineData("mlp9")]
    public void OnnxExportMatchesTorchSharpWithin1e4(string name)
    {
        var parameters = KnownConfigurations.All.Single(k => k.Name == name).Parameters with { LearningRate = 1e-3 };
        var random = new Random(5);
        LabelledVector Row(int i) => new($"d{i}", i % 16, Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble() - 0.5f + (i % 16) * 0.05f).ToArray());
        var train = Enumerable.Range(0, 160).Select(Row).ToList();
        var probe = Enumerable.Range(0, 40).Select(i => Row(i).Vector).ToList();
        using var trained = MlpTrainer.Train(parameters, train, [], new TrainingSettings(5, 32, 5, 1), null, TestContext.Current.CancellationToken);

        var torch = trained.Predict(probe);
        using var scratch = new ScratchFolder("dsdc-onnx-");
        var path = scratch.File("model.onnx");
        File.WriteAllBytes(path, OnnxExport.ToOnnx(trained.Layers(), parameters));
        var onnx = OnnxMlpRunner.Predict(path, probe);

        var maxDiff = torch.Zip(onnx).SelectMany(p => p.First.Zip(p.Second, (a, b) => Math.Abs(a - b))).Max();
        Assert.True(maxDiff < 1e-4, $"max |torch - onnx| = {maxDiff}");
        Assert.All(onnx, p => Assert.Equal(1.0, p.Sum(), 4));
    }

    [Fact]
    public void RandomSearchStaysInTheOriginalsBounds()
    {
        var search = new RandomSearch(3);
        for (var i = 0; i < 200; i++)
        {
            var p = search.Next();
            Assert.InRange(p.Layers.Count, 2, 5);
            Assert.InRange(p.Layers.Sum(l => l.Units), 512, 2048);
            Assert.All(p.Layers, l => Assert.True(int.IsPow2(l.Units) && l.Units is >= 16 and <= 1024 && l.Dropout is >= 0 and <= 0.5));
            Assert.Contains(p.LearningRate, new[] { 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3 });
            Assert.Equal(p.ToJson(), MlpParameters.FromJson(p.ToJson()).ToJson());
        }
    }
}
