using System.Globalization;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>reviewprobe [--recipe fused-tvrc]</c>: does the review threshold keep its promise on documents it never saw? The
/// production job reads the threshold off its own cross-validated answers and applies it to the model fitted on every
/// labelled document. Here that whole procedure runs inside each training side of an outer repeated k-fold: the
/// training side's own k-fold x R cross-validation gives the threshold (by each rule below), the recipe fitted on the
/// training side answers the outer test side, and the answers at or above the threshold are counted. Nested: no
/// threshold was read off a document it is then judged on.
/// </summary>
internal sealed class ReviewProbeCommand(TrainingDataLoader loader, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "reviewprobe";
    public string Usage => "[--recipe fused-tvrc]  nested check of the review threshold: accuracy of the answers that need no review, on outer folds";

    private sealed record Rule(string Name, Func<IReadOnlyList<OutOfFold>, double, int, double> Threshold);

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var recipeName = cli.Value("--recipe") ?? TrainingOptions.DefaultCandidates[0];
        var recipe = CvRecipes.FusedRecipe(FusedRecipes.Named(recipeName));
        var docs = await loader.LoadAllAsync(ct);
        if (docs.Select(d => d.Label).Distinct().Count() < 2)
        {
            Console.Error.WriteLine("Fewer than two labelled classes: ingest a labelled corpus first.");
            return 1;
        }
        var target = o.ReviewTargetAccuracy;
        var rules = new List<Rule>
        {
            new("production", (p, t, r) => Calibration.ReviewThreshold(p, t, minimum: 5 * r)),
            new("lower-bound z=1.0", (p, t, r) => LowerBound(p, t, r, 1.0)),
            new("lower-bound z=1.645", (p, t, r) => LowerBound(p, t, r, 1.645)),
            new("first-fall", (p, t, r) => FirstFall(p, t, 5 * r)),
            new("mean-confidence", (p, t, r) => MeanConfidence(p, t, 5 * r)),
        };

        var k = RepeatedCrossValidation.FoldsFor(docs.Count, o.CvFolds);
        var labels = docs.Select(d => d.Label).ToList();
        var folds = RepeatedCrossValidation.Folds(labels, k, o.CvRepeats, o.Seed);
        // Per rule and outer fold: (answered, right, total).
        var counts = rules.Select(_ => new List<(int Answered, int Right, int Total)>()).ToList();
        var thresholds = rules.Select(_ => new List<double>()).ToList();
        var started = DateTime.UtcNow;
        for (var r = 0; r < o.CvRepeats; r++)
            for (var f = 0; f < k; f++)
            {
                var testIndex = Enumerable.Range(0, docs.Count).Where(i => folds[r][i] == f).ToList();
                if (testIndex.Count == 0) continue;
                var train = docs.Where((_, i) => folds[r][i] != f).ToList();
                var test = testIndex.Select(i => docs[i]).ToList();
                // The production job's own estimate of the training side, with a seed of its own.
                var innerK = RepeatedCrossValidation.FoldsFor(train.Count, o.CvFolds);
                var inner = RepeatedCrossValidation.Run(train, innerK, o.CvRepeats, o.Seed + 1000 * r + f + 1, recipe, target, ct).Predictions;
                var probabilities = recipe(train, test, ct);
                var answers = test.Select((t, i) => new OutOfFold(t.Label, probabilities[i])).ToList();
                for (var u = 0; u < rules.Count; u++)
                {
                    var threshold = rules[u].Threshold(inner, target, o.CvRepeats);
                    thresholds[u].Add(threshold);
                    var kept = answers.Where(a => a.Confidence >= threshold && threshold < 1).ToList();
                    counts[u].Add((kept.Count, kept.Count(a => a.Predicted == a.Truth), answers.Count));
                }
                Console.Error.WriteLine($"repeat {r + 1} fold {f + 1}: " + string.Join(", ", rules.Select((rule, u) =>
                    $"{rule.Name} {thresholds[u][^1]:F2} -> {counts[u][^1].Right}/{counts[u][^1].Answered}")));
            }

        string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
        Console.WriteLine($"{recipeName}, {docs.Count} documents, outer {k}-fold x {o.CvRepeats}, each training side's own {RepeatedCrossValidation.FoldsFor(docs.Count - docs.Count / k, o.CvFolds)}-fold x {o.CvRepeats} " +
            $"for the threshold, target {P(target)} ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");
        Console.WriteLine("rule | threshold (median, range) | answered without review | their accuracy | fold sd | folds below target");
        for (var u = 0; u < rules.Count; u++)
        {
            var c = counts[u];
            var answered = c.Sum(x => x.Answered);
            var right = c.Sum(x => x.Right);
            var total = c.Sum(x => x.Total);
            var perFold = c.Where(x => x.Answered > 0).Select(x => x.Right / (double)x.Answered).ToList();
            var sorted = thresholds[u].Order().ToList();
            Console.WriteLine($"{rules[u].Name} | {sorted[sorted.Count / 2]:F2} ({sorted[0]:F2}-{sorted[^1]:F2}) | {P(answered / (double)total)} ({answered} of {total}) | " +
                $"{(answered > 0 ? P(right / (double)answered) : "n/a")} | {P(RepeatedCrossValidation.Sd(perFold))} | {perFold.Count(a => a < target)} of {perFold.Count}");
        }
        return 0;
    }

    /// <summary>
    /// The scan every rule here shares: the answers from the most confident down, stopping only where the confidence
    /// changes (tied answers fall on the same side of a threshold); at each stop <paramref name="holds"/> sees how many
    /// answers lie above, how many of them are right and the sum of their confidences. The threshold is the confidence of
    /// the deepest stop where it holds, or (<paramref name="untilFirstFailure"/>) of the last one before it first fails
    /// (ignoring stops where it answers null); 1 when none (every answer needs review).
    /// </summary>
    private static double Scan(IReadOnlyList<OutOfFold> predictions, Func<int, int, double, bool?> holds, bool untilFirstFailure = false)
    {
        var sorted = predictions.OrderByDescending(p => p.Confidence).ToList();
        var best = 1.0;
        var correct = 0;
        var confidence = 0.0;
        for (var i = 0; i < sorted.Count; i++)
        {
            if (sorted[i].Predicted == sorted[i].Truth) correct++;
            confidence += sorted[i].Confidence;
            if (i + 1 < sorted.Count && sorted[i + 1].Confidence == sorted[i].Confidence) continue;
            switch (holds(i + 1, correct, confidence))
            {
                case true: best = sorted[i].Confidence; break;
                case false when untilFirstFailure: return best;
            }
        }
        return best;
    }

    /// <summary>The deepest confidence where the Wilson lower bound (z) of the answers' accuracy above it, counting each
    /// document once (pooled repeats divided out), reaches the target.</summary>
    internal static double LowerBound(IReadOnlyList<OutOfFold> predictions, double target, int repeats, double z) =>
        Scan(predictions, (count, correct, _) =>
        {
            var n = count / (double)repeats;
            var p = correct / (double)count;
            var lower = (p + z * z / (2 * n) - z * Math.Sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n);
            return n >= 5 && lower >= target;
        });

    /// <summary>Scanning from the most confident answer down, the confidence just before the running accuracy (past the
    /// minimum) first falls below the target.</summary>
    internal static double FirstFall(IReadOnlyList<OutOfFold> predictions, double target, int minimum) =>
        Scan(predictions, (count, correct, _) => count < minimum ? null : correct / (double)count >= target, untilFirstFailure: true);

    /// <summary>The deepest confidence where the mean confidence of the answers above it (the calibrated model's own
    /// expectation of their accuracy) reaches the target.</summary>
    internal static double MeanConfidence(IReadOnlyList<OutOfFold> predictions, double target, int minimum) =>
        Scan(predictions, (count, _, confidence) => count >= minimum && confidence / count >= target);
}
