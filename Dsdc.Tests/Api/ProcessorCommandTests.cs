using Dsdc.Shared.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Api;

/// <summary><c>evaluate</c> and <c>bench-predict</c> on a few real pages, through the document processor, with the served model.</summary>
[Collection(ApiCollection.Name)]
public sealed class ProcessorCommandTests(ApiApp app) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsdc-commands-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Copies of trained pages (already stored, so the benchmark's predictions add no new document) in class folders.</summary>
    private string LabelledFolder()
    {
        foreach (var (path, label) in app.Known.GroupBy(k => k.Label).Take(2).SelectMany(g => g.Take(2)))
        {
            var folder = Directory.CreateDirectory(Path.Combine(_dir, $"{label}_{Dsdc.Shared.DocumentClasses.NameOf(label).Replace(' ', '-')}"));
            File.Copy(path, Path.Combine(folder.FullName, Path.GetFileName(path)), overwrite: true);
        }
        return _dir;
    }

    private ICliCommand Command(string name) => app.Services.GetServices<ICliCommand>().Single(c => c.Name == name);

    /// <summary><c>bench-predict</c> lives in Dsdc.Bench, whose host adds it to the app's services.</summary>
    private ICliCommand BenchPredict() => ActivatorUtilities.CreateInstance<Dsdc.Inference.Api.PredictBenchmarkCommand>(app.Services);

    [Fact]
    public async Task EvaluateAndBenchPredictRunTheProcessorOnRealPages()
    {
        var dir = LabelledFolder();

        Assert.Equal(0, await Command("evaluate").RunAsync([dir, "--json"], Ct));
        Assert.Equal(0, await Command("evaluate").RunAsync([dir], Ct));
        Assert.Equal(0, await BenchPredict().RunAsync([dir, "--pages", "2", "--rounds", "1"], Ct));
    }

    /// <summary><c>predict FILE...</c>: one JSON line per file with the API's fields, an unreadable file's line saying why.</summary>
    [Fact]
    public async Task PredictPrintsTheApisFieldsForEachFile()
    {
        var (path, _) = app.Known[0];
        var broken = Path.Combine(_dir, "broken.png");
        File.WriteAllText(broken, "not an image");
        var output = new StringWriter();
        var command = new Dsdc.Inference.PredictCommand(app.Get<Dsdc.Inference.IDocumentClassifier>()) { Output = output };

        Assert.Equal(1, await command.RunAsync([path, broken], Ct));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        var answer = lines[0];
        Assert.Equal(path, answer.GetProperty("file").GetString());
        Assert.Equal(16, answer.GetProperty("probabilities").GetArrayLength());
        Assert.Equal($"run-{app.ChampionRunId}", answer.GetProperty("modelId").GetString());
        Assert.False(answer.GetProperty("zeroShot").GetBoolean());
        var threshold = app.Get<Dsdc.Inference.IDocumentClassifier>().ServedManifest!.ReviewThreshold!.Value;
        var top = answer.GetProperty("topProbability").GetDouble();
        Assert.Equal(top < threshold || threshold >= 1, answer.GetProperty("needsReview").GetBoolean());
        Assert.Contains(answer.GetProperty("knownClasses").EnumerateArray(), c => c.GetString() == answer.GetProperty("className").GetString());
        Assert.Contains("broken.png", lines[1].GetProperty("file").GetString());
        Assert.False(string.IsNullOrEmpty(lines[1].GetProperty("error").GetString()));
    }

    [Fact]
    public async Task EvaluationSplitsTheAnswersByTheReviewFlagAndMeasuresTheirCalibration()
    {
        var dir = LabelledFolder();
        File.WriteAllText(Path.Combine(Directory.EnumerateDirectories(dir).First(), "broken.png"), "not an image");
        var classifier = app.Get<Dsdc.Inference.IDocumentClassifier>();

        var e = await Dsdc.Inference.FolderEvaluation.RunAsync(classifier, dir, parallelism: 2, Ct);

        Assert.Equal(5, e.Documents.Count);
        Assert.Equal(4, e.Scored.Count);
        Assert.Contains("broken.png", Assert.Single(e.Documents, d => d.Predicted is null).Path);
        Assert.False(e.ZeroShot);
        Assert.Equal(classifier.ModelRunId, e.ModelRunId);
        Assert.Equal(classifier.ServedManifest!.ReviewThreshold, e.ReviewThreshold);
        // The flag is the served model's own: below its threshold, and the two groups make up the whole.
        Assert.All(e.Scored, d => Assert.Equal(d.Probabilities!.Max() < e.ReviewThreshold, d.NeedsReview));
        var flagged = e.Scored.Where(d => d.NeedsReview).ToList();
        var others = e.Scored.Where(d => !d.NeedsReview).ToList();
        Assert.Equal(flagged.Count, e.NeedingReview);
        Assert.Equal(others.Count == 0 ? null : others.Average(d => d.Predicted == d.Truth ? 1.0 : 0.0), e.AccuracyWithoutReview);
        Assert.Equal(flagged.Count == 0 ? null : flagged.Average(d => d.Predicted == d.Truth ? 1.0 : 0.0), e.AccuracyNeedingReview);
        Assert.Equal(e.Scored.Average(d => -Math.Log(Math.Max(d.Probabilities![d.Truth], 1e-12))), e.LogLoss, 9);
        Assert.InRange(e.Ece, 0, 1);
        Assert.Equal(e.Scored.Count(d => d.Predicted == d.Truth) / 4.0, e.Metrics.Accuracy);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
