using System.Globalization;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>selftrain [--repeats R] [--rounds N]</c>: whether unlabelled pages lift a model trained on few labels. For 1, 2, 4
/// and 8 labelled documents per class (the learning curve's draws), the other documents are cut in two halves; each half
/// in turn is the unlabelled pool: the model trained on the labels answers it, its most confident answers join the
/// training side as pseudo-labels, and the retrained model is scored on the OTHER half. So no scored document was ever
/// seen, labelled or not, by the model that scores it. The baseline is the model trained on the labels alone, scored
/// on the same documents.
/// </summary>
internal sealed class SelfTrainingCommand(TrainingDataLoader loader, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "selftrain";
    public string Usage => "[--repeats R] [--rounds N]  pseudo-labels from unlabelled pages, at 1, 2, 4 and 8 labelled documents per class";

    private sealed record Strategy(string Name, Func<IReadOnlyList<float[]>, int, IReadOnlyList<int>> Select);

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var repeats = cli.Int("--repeats") ?? 5;
        var rounds = cli.Int("--rounds") ?? 2;
        var docs = await loader.LoadAllAsync(ct);
        var parameters = CvRecipes.TextVectorRegions;

        // Which of the pool's answers become pseudo-labels: (the pool's probabilities, labels per class) -> indices.
        var strategies = new List<Strategy>
        {
            new("confidence>=0.9", (p, _) => Enumerable.Range(0, p.Count).Where(i => p[i].Max() >= 0.9f).ToList()),
            new("confidence>=0.7", (p, _) => Enumerable.Range(0, p.Count).Where(i => p[i].Max() >= 0.7f).ToList()),
            new("top k per class", (p, k) => PerClass(p, k)),
            new("top 2k per class", (p, k) => PerClass(p, 2 * k)),
            new("top half of pool", (p, _) => Enumerable.Range(0, p.Count).OrderByDescending(i => p[i].Max()).Take(p.Count / 2).ToList()),
        };

        string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
        foreach (var perClass in new[] { 1, 2, 4, 8 })
        {
            var baseline = new List<double>();
            var results = strategies.ToDictionary(s => s.Name, _ => new List<double>());
            var added = strategies.ToDictionary(s => s.Name, _ => new List<(int Count, int Right)>());
            foreach (var (train, rest) in LearningCurveCommand.Draws(docs, perClass, repeats, o.Seed))
            {
                // Too few documents beyond the labelled ones for an unlabelled half and a scored half.
                if (rest.Count < 2) continue;
                var random = new Random(unchecked(o.Seed * 31 + perClass * 7 + baseline.Count));
                var known = train.Select(t => t.Label).Distinct().Count();
                if (known < 2) continue;
                var shuffled = rest.OrderBy(_ => random.Next()).ToList();
                var halves = new[] { shuffled.Where((_, i) => i % 2 == 0).ToList(), shuffled.Where((_, i) => i % 2 == 1).ToList() };
                var labelled = FusedModel.Train(parameters, train, ct);
                baseline.Add((double)Correct(labelled, rest) / rest.Count);
                foreach (var s in strategies)
                {
                    var right = 0;
                    for (var h = 0; h < 2; h++)
                    {
                        var (pool, scored) = (halves[h], halves[1 - h]);
                        var model = labelled;
                        var (pseudo, pseudoRight) = (0, 0);
                        for (var round = 0; round < rounds; round++)
                        {
                            var p = model.Predict(pool.Select(d => d.Inputs).ToList());
                            var chosen = s.Select(p, perClass * (round + 1));
                            (pseudo, pseudoRight) = (chosen.Count, chosen.Count(i => ClassificationMetrics.ArgMax(p[i]) == pool[i].Label));
                            model = FusedModel.Train(parameters, [.. train, .. chosen.Select(i => pool[i] with { Label = ClassificationMetrics.ArgMax(p[i]) })], ct);
                        }
                        added[s.Name].Add((pseudo, pseudoRight));
                        right += Correct(model, scored);
                    }
                    results[s.Name].Add((double)right / rest.Count);
                }
            }
            if (baseline.Count == 0)
            {
                Console.WriteLine($"{perClass} per class: no documents left to pool and score");
                continue;
            }
            Console.WriteLine($"{perClass} per class: labels only {P(baseline.Average())} (sd {P(RepeatedCrossValidation.Sd(baseline))})");
            foreach (var s in strategies)
            {
                var gains = results[s.Name].Zip(baseline, (a, b) => a - b).ToList();
                var pseudo = added[s.Name];
                Console.WriteLine($"  {s.Name,-18} {P(results[s.Name].Average())} (gain {P(gains.Average())}, sd {P(RepeatedCrossValidation.Sd(gains))}); " +
                    $"pseudo-labels {pseudo.Average(a => a.Count):F1} per half, {P(pseudo.Sum(a => a.Right) / (double)Math.Max(1, pseudo.Sum(a => a.Count)))} right");
            }
        }
        return 0;
    }

    /// <summary>How many of <paramref name="pages"/> the model answers right.</summary>
    private static int Correct(FusedModel model, IReadOnlyList<LabelledPage> pages)
    {
        var p = model.Predict(pages.Select(d => d.Inputs).ToList());
        return pages.Where((d, i) => ClassificationMetrics.ArgMax(p[i]) == d.Label).Count();
    }

    /// <summary>For each predicted class, its <paramref name="k"/> most confident answers.</summary>
    private static IReadOnlyList<int> PerClass(IReadOnlyList<float[]> p, int k) =>
        Enumerable.Range(0, p.Count).GroupBy(i => ClassificationMetrics.ArgMax(p[i]))
            .SelectMany(g => g.OrderByDescending(i => p[i].Max()).Take(k)).ToList();
}
