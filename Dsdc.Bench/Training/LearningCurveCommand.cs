using System.Globalization;
using System.Text.Json;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>learningcurve [--recipe NAME] [--repeats R] [--json]</c>: how the production recipe does with few labels. For 1,
/// 2, 4 and 8 labelled documents per class: R seeded draws of that many per class as the training side, every other
/// labelled document as the test side (a class with no more documents than that is tested on none); then all of them by
/// repeated k-fold cross-validation, with accuracy at 50%, 70% and 90% coverage.
/// </summary>
internal sealed class LearningCurveCommand(TrainingDataLoader loader, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "learningcurve";
    public string Usage => "[--recipe fused-tvrc[-uncalibrated|-unstacked]] [--repeats R] [--json]  accuracy and macro-F1 at 1, 2, 4, 8 and all labelled documents per class";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var recipeName = cli.Value("--recipe") ?? TrainingOptions.DefaultCandidates[0];
        var recipe = CvRecipes.FusedRecipe(Variant(recipeName));
        var repeats = cli.Int("--repeats") ?? 5;
        var docs = RegionSubset.Apply(cli, await loader.LoadAllAsync(ct));
        if (docs.Select(d => d.Label).Distinct().Count() < 2)
        {
            Console.Error.WriteLine("Fewer than two labelled classes: ingest a labelled corpus first.");
            return 1;
        }

        var points = new List<object>();
        foreach (var perClass in new[] { 1, 2, 4, 8 })
        {
            var accuracies = new List<double>();
            var f1s = new List<double>();
            var answers = new List<OutOfFold>();
            foreach (var (train, test) in Draws(docs, perClass, repeats, o.Seed))
            {
                var probabilities = recipe(train, test, ct);
                answers.AddRange(test.Select((t, i) => new OutOfFold(t.Label, probabilities[i])));
                var metrics = ClassificationMetrics.Compute(test.Select(t => t.Label).ToList(), probabilities.Select(p => ClassificationMetrics.ArgMax(p)).ToList());
                accuracies.Add(metrics.Accuracy);
                f1s.Add(metrics.MacroF1);
            }
            points.Add(Report(cli, $"{perClass} per class", perClass, accuracies, f1s, null, answers));
            if (cli.Flag("--sharpen")) Sharpening(answers);
        }
        var k = RepeatedCrossValidation.FoldsFor(docs.Count, o.CvFolds);
        var cv = RepeatedCrossValidation.Run(docs, k, o.CvRepeats, o.Seed, recipe, o.ReviewTargetAccuracy, ct).Estimate;
        points.Add(Report(cli, $"all ({docs.Count}, {k}-fold x {o.CvRepeats})", null, cv.FoldAccuracies, null, cv));
        if (cli.Flag("--json"))
            Console.WriteLine(JsonSerializer.Serialize(new { recipe = recipeName, documents = docs.Count, repeats, points },
                new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        return 0;
    }

    /// <summary>The test side's log-loss and ECE with every answer's log-probabilities multiplied by t (t > 1 sharpens):
    /// how far from calibrated the answers are, and in which direction. Read from the answers, never used to fit.</summary>
    private static void Sharpening(IReadOnlyList<OutOfFold> answers)
    {
        // A draw leaves no test document when every class has no more documents than it takes.
        if (answers.Count == 0) return;
        foreach (var t in new[] { 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0 })
        {
            var sharpened = answers.Select(a =>
            {
                var logits = a.Probabilities.Select(p => p > 0 ? t * Math.Log(p) : double.NegativeInfinity).ToArray();
                var max = logits.Max();
                var e = logits.Select(l => double.IsNegativeInfinity(l) ? 0 : Math.Exp(l - max)).ToArray();
                var sum = e.Sum();
                return a with { Probabilities = e.Select(x => (float)(x / sum)).ToArray() };
            }).ToList();
            Console.WriteLine($"    x{t:F2}: log-loss {Calibration.LogLoss(sharpened):F3}, ECE {Calibration.ExpectedCalibrationError(sharpened):F3}, " +
                $"mean top probability {sharpened.Average(a => a.Probabilities.Max()):F3}");
        }
    }

    /// <summary>A named fused recipe, or one with <c>-uncalibrated</c> (no top-label calibration) or <c>-unstacked</c>
    /// (every view weighs 1, no calibration) after its name.</summary>
    private static FusedParameters Variant(string name) =>
        name.EndsWith("-unstacked", StringComparison.Ordinal) ? FusedRecipes.Named(name[..^"-unstacked".Length]) with { Stack = false }
        : name.EndsWith("-uncalibrated", StringComparison.Ordinal) ? FusedRecipes.Named(name[..^"-uncalibrated".Length]) with { Calibrate = false }
        : FusedRecipes.Named(name);

    /// <summary>
    /// <paramref name="repeats"/> seeded draws of <paramref name="perClass"/> labelled documents per class as the training
    /// side, every other document as the test side (a class with no more documents than that is tested on none).
    /// </summary>
    public static IEnumerable<(List<LabelledPage> Train, List<LabelledPage> Test)> Draws(IReadOnlyList<LabelledPage> docs, int perClass, int repeats, int seed)
    {
        for (var r = 0; r < repeats; r++)
        {
            var random = new Random(unchecked(seed * 97 + perClass * 13 + r));
            var train = docs.GroupBy(d => d.Label).SelectMany(g => g.OrderBy(_ => random.Next()).Take(perClass)).ToList();
            var chosen = train.Select(t => t.DocumentId).ToHashSet(StringComparer.Ordinal);
            yield return (train, docs.Where(d => !chosen.Contains(d.DocumentId)).ToList());
        }
    }

    private static object Report(CliArgs cli, string label, int? perClass, IReadOnlyList<double> accuracies, IReadOnlyList<double>? f1s, CvEstimate? cv,
        IReadOnlyList<OutOfFold>? answers = null)
    {
        var accuracy = cv?.Accuracy ?? accuracies.Average();
        var macroF1 = cv?.MacroF1 ?? f1s!.Average();
        // A draw leaves no test document when every class has no more documents than it takes: no figure then.
        double? logLoss = cv?.LogLoss ?? (answers is { Count: > 0 } ? Calibration.LogLoss(answers) : null);
        double? ece = cv?.Ece ?? (answers is { Count: > 0 } ? Calibration.ExpectedCalibrationError(answers) : null);
        var sd = RepeatedCrossValidation.Sd(accuracies);
        if (!cli.Flag("--json"))
        {
            string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
            string F(double? x) => x?.ToString("F3", CultureInfo.InvariantCulture) ?? "n/a";
            Console.WriteLine($"{label,-28} accuracy {P(accuracy)} (sd {P(sd)}), macro-F1 {F(macroF1)}, log-loss {F(logLoss)}, ECE {F(ece)}" +
                (cv is null ? "" : $", at 50/70/90% coverage {P(cv.AccuracyAt(0.5))}/{P(cv.AccuracyAt(0.7))}/{P(cv.AccuracyAt(0.9))}"));
        }
        return new
        {
            label, perClass, accuracy, accuracySd = sd, macroF1, logLoss, ece,
            accuracyAt50 = cv?.AccuracyAt(0.5), accuracyAt70 = cv?.AccuracyAt(0.7), accuracyAt90 = cv?.AccuracyAt(0.9),
        };
    }
}
