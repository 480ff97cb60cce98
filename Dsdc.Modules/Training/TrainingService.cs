using System.Diagnostics;
using System.Text.Json;
using Dsdc.Embedding;
using Dsdc.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

public sealed record RunOutcome(RunSummary Run, bool BestOfJob);

public sealed record TrainingReport(IReadOnlyList<RunOutcome> Runs, PromotionResult? Promotion, string? Skipped);

/// <summary>
/// One training job: the known-best configurations, then random ones, each trained on the stored split, scored on its
/// test side, exported to ONNX and recorded; then the job's best run challenges the champion on the same test side.
/// </summary>
public sealed partial class TrainingService(
    TrainingDataLoader loader,
    TrainingStore store,
    ModelRegistry registry,
    IDocumentEncoder encoder,
    DsdcPaths paths,
    IOptions<TrainingOptions> options,
    ILogger<TrainingService> logger)
{
    /// <summary>
    /// One job. Without <paramref name="configurations"/>: the known MLPs and random ones (<paramref name="runs"/> in all),
    /// then, when <see cref="TrainingOptions.TrainViewModel"/>, the multi-view model; with them, exactly those MLPs and
    /// <paramref name="viewModels"/>.
    /// </summary>
    public async Task<TrainingReport> TrainAsync(int? runs, int? epochs, string triggeredBy, CancellationToken ct,
        IReadOnlyList<(string Name, MlpParameters Parameters)>? configurations = null,
        IReadOnlyList<(string Name, ViewEnsembleParameters Parameters)>? viewModels = null)
    {
        var o = options.Value;
        var data = await loader.LoadAsync(encoder.Id, encoder.Version, ct, withPages: true);
        var total = data.Train.Count + data.Validation.Count + data.Test.Count;
        if (total < o.MinDocuments || data.Test.Count == 0)
        {
            var why = $"{total} labelled document(s) embedded with {encoder.Id} ({data.Test.Count} on the test side); Training:MinDocuments is {o.MinDocuments}";
            logger.LogWarning("Training skipped: {Reason}", why);
            return new TrainingReport([], null, why);
        }

        // Each job draws new random configurations, still reproducible from the seed and the run history.
        var lastRunId = (await store.RunsAsync(1, ct)).FirstOrDefault()?.Id ?? 0;
        var plan = (configurations ?? Plan(runs ?? o.RunsPerJob, new RandomSearch(unchecked((int)(o.Seed * 7919L + lastRunId))))).Select(c => new PlannedRun(c.Item1, c.Item2, null))
            .Concat((viewModels ?? (configurations is null && o.TrainViewModel ? [(ProductionViews.Name, ProductionViews.Linear)] : []))
                .Select(v => new PlannedRun(v.Name, null, v.Parameters)))
            .ToList();
        var settings = new TrainingSettings(epochs ?? o.Epochs, o.BatchSize, o.Patience, o.Seed, o.UseCuda, o.Threads);
        var outcomes = new List<RunSummary>();
        foreach (var run in plan)
        {
            ct.ThrowIfCancellationRequested();
            var runId = await TrainOneAsync(run, data, settings, triggeredBy, ct);
            outcomes.Add((await store.RunAsync(runId, ct))!);
        }

        var best = outcomes.Where(r => r.Status == "succeeded")
            .OrderByDescending(r => r.TestAccuracy).ThenByDescending(r => r.TestMacroF1).ThenBy(r => r.Id).FirstOrDefault();
        var promotion = best is null ? null : await ChallengeAsync(best, data, triggeredBy, ct);
        return new TrainingReport(outcomes.Select(r => new RunOutcome(r, r.Id == best?.Id)).ToList(), promotion, null);
    }

    internal static IEnumerable<(string, MlpParameters)> Plan(int runs, RandomSearch search)
    {
        for (var i = 0; i < runs; i++)
            yield return i < KnownConfigurations.All.Count ? KnownConfigurations.All[i] : ($"random-{i - KnownConfigurations.All.Count + 1}", search.Next());
    }

    /// <summary>A run of the job: an MLP on the vectors, or a multi-view model.</summary>
    private sealed record PlannedRun(string Name, MlpParameters? Mlp, ViewEnsembleParameters? Views)
    {
        public string ParametersJson => Mlp?.ToJson() ?? Views!.ToJson();
    }

    /// <summary>What a trained run hands to the recorder: test probabilities, the graph files and the views they serve.</summary>
    private sealed record TrainedRun(float[][] TestProbabilities, int BestEpoch, byte[] MainOnnx, IReadOnlyDictionary<string, byte[]> Extra,
        IReadOnlyList<ViewSpec>? Views);

    private async Task<long> TrainOneAsync(PlannedRun plan, DataSplit data, TrainingSettings settings, string triggeredBy, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var name = plan.Name;
        var runId = await store.CreateRunAsync(new NewRun(name, plan.ParametersJson, encoder.Id, encoder.Version, data.Dimensions, settings.Seed,
            settings.UseCuda && TorchSharp.torch.cuda.is_available() ? "cuda" : "cpu", data.Train.Count, data.Validation.Count, data.Test.Count,
            triggeredBy), ct);
        try
        {
            var epochs = new List<EpochMetrics>();
            var metadata = new Dictionary<string, string>
            {
                ["dsdc.run_id"] = runId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["dsdc.encoder"] = $"{encoder.Id}@{encoder.Version}",
            };
            var trained = plan.Mlp is { } mlp
                ? TrainMlp(mlp, data, settings, epochs, metadata, ct)
                : TrainViews(plan.Views!, data, settings, epochs, metadata, ct);
            // A multi-view run trains its views one after another: its epochs are numbered on across them.
            for (var i = 0; i < epochs.Count; i++) await store.AddEpochAsync(runId, epochs[i] with { Epoch = i + 1 }, ct);

            var probabilities = trained.TestProbabilities;
            var test = ClassificationMetrics.Compute(data.Test.Select(t => t.Label).ToList(),
                probabilities.Select(p => ClassificationMetrics.ArgMax(p)).ToList());
            var testLoss = data.Test.Select((t, i) => -Math.Log(Math.Max(probabilities[i][t.Label], 1e-12))).DefaultIfEmpty(double.NaN).Average();
            var scores = new ModelScores(test.Accuracy, test.MacroF1, test.Count, test.PerClass, test.Confusion);
            var parameters = JsonSerializer.Deserialize<JsonElement>(plan.ParametersJson);
            var manifest = new ModelManifest(runId, name, DocumentClasses.Names, encoder.Id, encoder.Version, data.Dimensions,
                OnnxExport.InputName, OnnxExport.OutputName, parameters, scores, DateTime.UtcNow, trained.Views);
            var artifact = ModelArtifacts.Write(paths.ModelsDir, runId, trained.MainOnnx, manifest, trained.Extra);
            await store.CompleteRunAsync(runId, epochs.Count, trained.BestEpoch, testLoss, test, artifact,
                JsonSerializer.Serialize(scores, ModelManifest.Json), watch.ElapsedMilliseconds, ct);
            LogRun(runId, name, test.Accuracy, test.MacroF1, epochs.Count, trained.BestEpoch, watch.ElapsedMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One bad configuration fails its run, not the job: the others still train and compete.
            logger.LogError(ex, "Run {RunId} ({Name}) failed", runId, name);
            await store.FailRunAsync(runId, ex.Message, watch.ElapsedMilliseconds, CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
            await store.FailRunAsync(runId, "cancelled", watch.ElapsedMilliseconds, CancellationToken.None);
            throw;
        }
        return runId;
    }

    private static TrainedRun TrainMlp(MlpParameters parameters, DataSplit data, TrainingSettings settings, List<EpochMetrics> epochs,
        Dictionary<string, string> metadata, CancellationToken ct)
    {
        using var trained = MlpTrainer.Train(parameters, data.Train, data.Validation, settings, epochs.Add, ct);
        return new TrainedRun(trained.Predict(data.Test.Select(t => t.Vector).ToList()), trained.BestEpoch,
            OnnxExport.ToOnnx(trained.Layers(), parameters, metadata), new Dictionary<string, byte[]>(), null);
    }

    /// <summary>
    /// Each view's graph in its own file (the first one is <c>model.onnx</c>), standardisation folded in, and the text
    /// view's vocabulary and idf beside it: serving recomputes exactly the features the views were trained on.
    /// </summary>
    private static TrainedRun TrainViews(ViewEnsembleParameters parameters, DataSplit data, TrainingSettings settings, List<EpochMetrics> epochs,
        Dictionary<string, string> metadata, CancellationToken ct)
    {
        using var trained = ViewEnsembleTrainer.Train(parameters, data.PagesOf(data.Train), data.PagesOf(data.Validation), settings, epochs.Add, ct);
        var probabilities = trained.Predict(data.PagesOf(data.Test).Select(p => p.Inputs).ToList());
        var extra = new Dictionary<string, byte[]>();
        var specs = new List<ViewSpec>();
        byte[]? main = null;
        for (var i = 0; i < trained.Views.Count; i++)
        {
            var view = trained.Views[i];
            var file = i == 0 ? ModelArtifacts.OnnxFile : $"view{i}-{view.Parameters.View}.onnx";
            var onnx = OnnxExport.ToOnnx(view.ExportLayers(), view.Parameters.Model, new Dictionary<string, string>(metadata) { ["dsdc.view"] = view.Parameters.View });
            if (i == 0) main = onnx;
            else extra[file] = onnx;
            string? features = null;
            if (view.Tfidf is { } tfidf)
            {
                features = $"view{i}-{view.Parameters.View}-tfidf.json";
                extra[features] = System.Text.Encoding.UTF8.GetBytes(tfidf.ToJson());
            }
            specs.Add(new ViewSpec(view.Parameters.View, file, view.Model.Inputs, view.Parameters.Weight, features));
        }
        return new TrainedRun(probabilities, trained.Views.Max(v => v.Model.BestEpoch), main!, extra, specs);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId} ({Name}): test accuracy {Accuracy:P1}, macro-F1 {MacroF1:F3}, {Epochs} epochs (best {BestEpoch}) in {ElapsedMs} ms")]
    private partial void LogRun(long runId, string name, double accuracy, double macroF1, int epochs, int bestEpoch, long elapsedMs);
}
