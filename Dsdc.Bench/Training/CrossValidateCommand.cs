using System.Globalization;
using System.Text.Json;
using Dsdc.Embedding;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>crossvalidate [--folds K] [--repeats R] [--variants a,b] [--json]</c>: repeated stratified k-fold estimates (mean
/// and spread of accuracy and macro-F1, log-loss, calibration error, accuracy at 50/70/90% coverage) of model recipes
/// over every labelled document embedded by the configured encoder (run <c>ingest</c> on the corpus first).
/// </summary>
internal sealed class CrossValidateCommand(TrainingDataLoader loader, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "crossvalidate";
    public string Usage => "[--folds K] [--repeats R] [--variants a,b] [--json]  repeated k-fold estimates of model recipes on the labelled documents";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var docs = await loader.LoadAllAsync(ct);
        var folds = RepeatedCrossValidation.FoldsFor(docs.Count, cli.Int("--folds") ?? o.CvFolds);
        var repeats = cli.Int("--repeats") ?? o.CvRepeats;
        if (docs.Count < 4)
        {
            Console.Error.WriteLine($"Only {docs.Count} labelled, embedded document(s): ingest a labelled corpus first.");
            return 1;
        }
        var variants = CvVariants.All(o);
        if (cli.Value("--variants") is { } chosen)
            variants = variants.Where(v => chosen.Split(',').Contains(v.Name)).ToList();

        var results = new List<(CvVariant Variant, CvOutcome Outcome, double Seconds)>();
        foreach (var variant in variants)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var outcome = RepeatedCrossValidation.Run(docs, folds, repeats, o.Seed, variant.Recipe, o.ReviewTargetAccuracy, ct);
            results.Add((variant, outcome, watch.Elapsed.TotalSeconds));
            if (!cli.Flag("--json")) Print(variant, outcome, watch.Elapsed.TotalSeconds);
        }
        if (cli.Flag("--json"))
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                documents = docs.Count, folds, repeats, classes = docs.Select(d => d.Label).Distinct().Count(),
                variants = results.Select(r => new
                {
                    name = r.Variant.Name, description = r.Variant.Description, seconds = r.Seconds, estimate = r.Outcome.Estimate,
                    accuracyAt50 = r.Outcome.Estimate.AccuracyAt(0.5), accuracyAt70 = r.Outcome.Estimate.AccuracyAt(0.7),
                    accuracyAt90 = r.Outcome.Estimate.AccuracyAt(0.9),
                    recall = r.Outcome.PerRepeat[0].PerClass.Where(c => c.Support > 0).ToDictionary(c => c.ClassName,
                        c => r.Outcome.PerRepeat.Average(m => m.PerClass[c.Label].Recall)),
                }),
            }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        return 0;
    }

    private static void Print(CvVariant v, CvOutcome outcome, double seconds)
    {
        var e = outcome.Estimate;
        string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
        string F(double x) => x.ToString("F3", CultureInfo.InvariantCulture);
        Console.WriteLine($"{v.Name}: accuracy {P(e.Accuracy)} (fold sd {P(e.AccuracySd)}, 95% CI ±{P(e.AccuracyCi95)}), macro-F1 {F(e.MacroF1)}, " +
            $"log-loss {F(e.LogLoss)}, ECE {F(e.Ece)}, accuracy at 50/70/90% coverage {P(e.AccuracyAt(0.5))}/{P(e.AccuracyAt(0.7))}/{P(e.AccuracyAt(0.9))}, " +
            $"review below {F(e.ReviewThreshold)}; {e.Folds}-fold x {e.Repeats} on {e.Documents} documents, {seconds:F0} s ({v.Description})");
        foreach (var c in outcome.PerRepeat[0].PerClass.Where(c => c.Support > 0))
            Console.WriteLine($"    {c.Label,2} {c.ClassName,-24} recall {outcome.PerRepeat.Average(m => m.PerClass[c.Label].Recall).ToString("P0", CultureInfo.InvariantCulture),5} of {c.Support}");
    }
}
