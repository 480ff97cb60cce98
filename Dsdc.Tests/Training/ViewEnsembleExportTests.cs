using Dsdc.Tests.Infrastructure;
using Dsdc.Training;

namespace Dsdc.Tests.Training;

/// <summary>A multi-view artifact (per-view graphs, standardisation folded in, TF-IDF vocabulary) serves what training predicted.</summary>
public sealed class ViewEnsembleExportTests
{
    [Fact]
    public void ServedViewsMatchTrainedViewsWithin1e4()
    {
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(11);
        string[] words = ["invoice", "total", "dear", "memo", "budget", "report", "page", "form", "date", "sincerely"];
        LabelledPage Page(int i)
        {
            var label = i % 16;
            var vector = Enumerable.Range(0, 32).Select(_ => (float)random.NextDouble() + label * 0.1f).ToArray();
            var text = string.Join(' ', Enumerable.Range(0, 30).Select(_ => words[(label + random.Next(3)) % words.Length] + (random.Next(4) == 0 ? " 1998" : "")));
            var layout = Enumerable.Range(0, PageLayout.Dimensions).Select(_ => (float)random.NextDouble() * (1 + label % 4)).ToArray();
            return new LabelledPage($"d{i}", label, new PageInputs(vector, text, layout));
        }
        var train = Enumerable.Range(0, 96).Select(Page).ToList();
        var probe = Enumerable.Range(0, 24).Select(i => Page(i).Inputs).ToList();
        var parameters = new ViewEnsembleParameters(
        [
            ViewEnsembleParameters.Linear(ViewKinds.Vector, 1e-2, 1e-3, standardize: true),
            ViewEnsembleParameters.Linear(ViewKinds.Text, 1e-2, 0, standardize: false, weight: 2),
            new(ViewKinds.Layout, KnownConfigurations.Mlp12 with { LearningRate = 1e-3 }, 1e-3, Standardize: true),
        ]);
        using var trained = ViewEnsembleTrainer.Train(parameters, train, [], new TrainingSettings(5, 32, 5, 1), null, ct);
        var expected = trained.Predict(probe);

        using var scratch = new ScratchFolder("dsdc-views-");
        var dir = scratch.Path;
        var specs = new List<ViewSpec>();
        for (var i = 0; i < trained.Views.Count; i++)
        {
            var v = trained.Views[i];
            var file = i == 0 ? ModelArtifacts.OnnxFile : $"view{i}.onnx";
            File.WriteAllBytes(Path.Combine(dir, file), OnnxExport.ToOnnx(v.ExportLayers(), v.Parameters.Model));
            string? features = null;
            if (v.Features is not null) File.WriteAllText(Path.Combine(dir, features = $"view{i}-{v.Features.FileSuffix}.json"), v.Features.ToJson());
            specs.Add(new ViewSpec(v.Parameters.View, file, v.Model.Inputs, v.Parameters.Weight, features));
        }
        var manifest = new ModelManifest(1, "views", Dsdc.Shared.DocumentClasses.Names, "test", "1", 32, OnnxExport.InputName, OnnxExport.OutputName,
            default, new ModelScores(0, 0, 0, [], []), DateTime.UtcNow, specs);
        using var served = new ViewEnsembleRunner(new ChampionModel(1, Path.Combine(dir, ModelArtifacts.OnnxFile), manifest), OnnxMlpRunner.CpuSession);
        var actual = served.Predict(probe);

        var maxDiff = expected.Zip(actual).SelectMany(p => p.First.Zip(p.Second, (a, b) => Math.Abs(a - b))).Max();
        Assert.True(maxDiff < 1e-4, $"max |trained - served| = {maxDiff}");
        Assert.All(actual, p => Assert.Equal(1.0, p.Sum(), 4));
        Assert.False(served.SumsLogits);
        Assert.Equal(16, served.PredictVector(probe[0].Vector).Length);
    }

    [Fact]
    public void TfidfRoundTripsAndFoldsDigits()
    {
        var tfidf = RawTextTfidf.Fit(["Invoice No. 1234 total", "INVOICE no 9876 amount", "dear sir"]);
        Assert.Contains("w:0000", tfidf.Terms);
        Assert.Contains("w:invoice", tfidf.Terms);
        var again = RawTextTfidf.FromJson(tfidf.ToJson());
        Assert.Equal(tfidf.Transform("invoice 5555"), again.Transform("invoice 5555"));
        Assert.Equal(1.0, Math.Sqrt(again.Transform("invoice 5555").Sum(x => x * x)), 5);
    }
}
