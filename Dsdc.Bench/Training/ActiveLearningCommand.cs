using System.Globalization;
using Dsdc.Inference;
using Dsdc.Inference.Review;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>activelearning [--folds K] [--repeats R] [--batch B] [--max N]</c>: which documents a person should label first.
/// Each run holds one stratified fold out as the test side; the other folds are the unlabelled pool. Starting with no
/// label (the zero-shot model serves), a simulated person labels B documents of the pool at a time, chosen by a rule, with
/// their true class; after each batch the production model is trained again (as the recurring job would) and scored on
/// the test side, which no rule ever sees. The rules: the production review queue's order (each predicted class in turn,
/// most certain first while the class has fewer than <see cref="ReviewQueue.TypicalFirstBelow"/> labels, least certain
/// after: <see cref="ReviewQueue"/>), the queue least certain first or most certain first throughout, other thresholds,
/// random, the least certain overall, the smallest margin, the most different from what is labelled (k-center on the
/// image and text features), that for the first batch then the queue least certain first, and the production queue
/// with the zero-shot model's answers giving a turn to each class that has no label yet. Gains are paired against
/// random and against the queue least certain first (the order before the per-class switch).
/// </summary>
internal sealed class ActiveLearningCommand(TrainingDataLoader loader, ZeroShotServing zeroShot, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "activelearning";
    public string Usage => "[--folds 3] [--repeats 3] [--batch 16] [--max 128] [--rules a,b] [--calibration]  accuracy as a person labels the pool in the order each rule proposes";

    /// <summary>A rule: (the pool's probabilities under the model now served, the pool, which pool documents are labelled,
    /// how many to take, the run's random) -> the pool indices to label next.</summary>
    private delegate IReadOnlyList<int> Rule(IReadOnlyList<float[]> p, IReadOnlyList<float[]> features, IReadOnlySet<int> labelled, int take, Random random);

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var k = cli.Int("--folds") ?? 3;
        var repeats = cli.Int("--repeats") ?? 3;
        var batch = cli.Int("--batch") ?? 16;
        var max = cli.Int("--max") ?? 128;
        var docs = await loader.LoadAllAsync(ct);
        if (docs.Select(d => d.Label).Distinct().Count() < 2)
        {
            Console.Error.WriteLine("Fewer than two labelled classes: ingest a labelled corpus first.");
            return 1;
        }
        var parameters = CvRecipes.TextVectorRegions;
        var features = docs.Select(d => Features(d.Inputs)).ToList();

        // The true classes of the current run's pool, for the rules that count what is labelled so far, and the zero-shot
        // model's answers on it (fixed: it trains on nothing).
        var poolLabels = Array.Empty<int>();
        var poolZeroShot = new List<float[]>();
        var rules = new List<(string Name, Rule Rule)>
        {
            (Baseline, (p, _, l, n, _) => Switching(p, l, n, poolLabels, threshold: 0, perClass: true)),
            ("random", (p, _, l, n, r) => Unlabelled(p, l).OrderBy(_ => r.Next()).Take(n).ToList()),
            ("least certain", (p, _, l, n, _) => Unlabelled(p, l).OrderBy(i => p[i].Max()).ThenBy(i => i).Take(n).ToList()),
            ("smallest margin", (p, _, l, n, _) => Unlabelled(p, l).OrderBy(i => Margin(p[i])).ThenBy(i => i).Take(n).ToList()),
            ("queue, most certain first", (p, _, l, n, _) => Unlabelled(p, l).OrderBy(i => QueueTurn(p, l, i, mostCertain: true)).ThenByDescending(i => p[i].Max()).ThenBy(i => i).Take(n).ToList()),
            ("production queue", (p, _, l, n, _) => Switching(p, l, n, poolLabels, ReviewQueue.TypicalFirstBelow, perClass: true)),
            ("switch per class at 2", (p, _, l, n, _) => Switching(p, l, n, poolLabels, 2, perClass: true)),
            ("switch per class at 4", (p, _, l, n, _) => Switching(p, l, n, poolLabels, 4, perClass: true)),
            ("switch at median 3", (p, _, l, n, _) => Switching(p, l, n, poolLabels, 3, perClass: false)),
            ("class in turn, random", (p, _, l, n, r) => ClassInTurnRandom(p, l, n, r)),
            ("k-center", (p, f, l, n, _) => KCenter(f, l, n)),
            ("k-center, then queue", (p, f, l, n, _) => l.Count == 0 ? KCenter(f, l, n) : Switching(p, l, n, poolLabels, threshold: 0, perClass: true)),
            ("queue + zero-shot for unlabelled classes", (p, _, l, n, _) => WithZeroShot(p, poolZeroShot, l, n, poolLabels, restricted: false)),
            ("queue + zero-shot among unlabelled classes", (p, _, l, n, _) => WithZeroShot(p, poolZeroShot, l, n, poolLabels, restricted: true)),
        };

        // --rules keeps the rules whose names contain one of the given words; random and the baseline queue always run,
        // since every gain is paired against them.
        var only = cli.Value("--rules")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (only is { Length: > 0 })
            rules = rules.Where(r => r.Name is "random" or Baseline || only.Any(w => r.Name.Contains(w, StringComparison.OrdinalIgnoreCase))).ToList();

        var checkpoints = Enumerable.Range(1, max / batch).Select(s => s * batch).ToList();
        // [rule][checkpoint] -> the accuracy of each run, and the classes the model knew.
        var accuracy = rules.ToDictionary(r => r.Name, _ => checkpoints.ToDictionary(c => c, _ => new List<double>()));
        var known = rules.ToDictionary(r => r.Name, _ => checkpoints.ToDictionary(c => c, _ => new List<double>()));
        var answers = rules.ToDictionary(r => r.Name, _ => checkpoints.ToDictionary(c => c, _ => new List<OutOfFold>()));
        var folds = RepeatedCrossValidation.Folds(docs.Select(d => d.Label).ToList(), k, repeats, o.Seed);
        var started = DateTime.UtcNow;
        for (var r = 0; r < repeats; r++)
        for (var f = 0; f < k; f++)
        {
            var pool = Enumerable.Range(0, docs.Count).Where(i => folds[r][i] != f).ToList();
            var test = docs.Where((_, i) => folds[r][i] == f).ToList();
            var poolDocs = pool.Select(i => docs[i]).ToList();
            var poolFeatures = pool.Select(i => features[i]).ToList();
            poolLabels = poolDocs.Select(d => d.Label).ToArray();
            poolZeroShot = poolDocs.Select(d => zeroShot.Model.Predict(d.Inputs)).ToList();
            foreach (var (name, rule) in rules)
            {
                var random = new Random(unchecked(o.Seed * 101 + r * 7 + f));
                var labelled = new HashSet<int>();
                Func<PageInputs, float[]> serve = zeroShot.Model.Predict;
                foreach (var c in checkpoints)
                {
                    if (labelled.Count >= poolDocs.Count) break;
                    var p = poolDocs.Select(d => serve(d.Inputs)).ToList();
                    foreach (var i in rule(p, poolFeatures, labelled, Math.Min(c, poolDocs.Count) - labelled.Count, random)) labelled.Add(i);
                    var train = labelled.Select(i => poolDocs[i]).ToList();
                    var classes = train.Select(t => t.Label).Distinct().Count();
                    // As in production: a trained model once two classes have a label, the zero-shot model before.
                    serve = classes >= 2 ? FusedModel.Train(parameters, train, ct).Predict : zeroShot.Model.Predict;
                    var answered = test.Select(t => new OutOfFold(t.Label, serve(t.Inputs))).ToList();
                    answers[name][c].AddRange(answered);
                    var right = answered.Count(a => a.Predicted == a.Truth);
                    accuracy[name][c].Add((double)right / test.Count);
                    known[name][c].Add(classes);
                }
            }
            Console.Error.WriteLine($"run {r * k + f + 1}/{repeats * k} done, {(DateTime.UtcNow - started).TotalSeconds:F0} s");
        }

        string P(double x) => (100 * x).ToString("F1", CultureInfo.InvariantCulture);
        Console.WriteLine($"{docs.Count} documents, {k} folds x {repeats} repeats: each run's pool is {k - 1} folds, its test side the other; " +
            $"batches of {batch}. Accuracy on the test side (sd over runs) [classes known]; then the gain over random and over the queue least certain first, paired (sd):");
        Console.WriteLine("labels | " + string.Join(" | ", rules.Select(r => r.Name)));
        string Gain(List<double> a, List<double> baseline)
        {
            var gains = a.Zip(baseline, (x, y) => x - y).ToList();
            return $"{(gains.Average() >= 0 ? "+" : "")}{P(gains.Average())} ({P(RepeatedCrossValidation.Sd(gains))})";
        }
        foreach (var c in checkpoints)
        {
            var cells = rules.Select(r =>
            {
                var a = accuracy[r.Name][c];
                if (a.Count == 0) return "-";
                return $"{P(a.Average())} ({P(RepeatedCrossValidation.Sd(a))}) [{known[r.Name][c].Average():F1}]" +
                    (cli.Flag("--calibration") ? $" ECE {Calibration.ExpectedCalibrationError(answers[r.Name][c]):F3} log-loss {Calibration.LogLoss(answers[r.Name][c]):F3}" : "") +
                    (r.Name == "random" ? "" : $" {Gain(a, accuracy["random"][c])}") +
                    (r.Name is "random" or Baseline ? "" : $" {Gain(a, accuracy[Baseline][c])}");
            });
            Console.WriteLine($"{c} | " + string.Join(" | ", cells));
        }
        return 0;
    }

    private const string Baseline = "queue, least certain first";

    private static IEnumerable<int> Unlabelled(IReadOnlyList<float[]> p, IReadOnlySet<int> labelled) =>
        Enumerable.Range(0, p.Count).Where(i => !labelled.Contains(i));

    /// <summary>The review queue's turn: the rank of the document's answer among the unlabelled documents answered
    /// with the same class, least certain first (<c>row_number() OVER (PARTITION BY predicted ORDER BY top_probability)</c>).</summary>
    private static int QueueTurn(IReadOnlyList<float[]> p, IReadOnlySet<int> labelled, int i, bool mostCertain = false)
    {
        var predicted = ClassificationMetrics.ArgMax(p[i]);
        var top = mostCertain ? -p[i].Max() : p[i].Max();
        return Unlabelled(p, labelled).Count(j =>
        {
            var other = mostCertain ? -p[j].Max() : p[j].Max();
            return j != i && ClassificationMetrics.ArgMax(p[j]) == predicted && (other < top || (other == top && j < i));
        });
    }

    /// <summary>The queue's order, most certain first for a predicted class with fewer than <paramref name="threshold"/>
    /// labelled documents (or, not per class, while the median class has fewer), least certain first after; with a
    /// threshold of 0, least certain first throughout (the order before the per-class switch).</summary>
    private static IReadOnlyList<int> Switching(IReadOnlyList<float[]> p, IReadOnlySet<int> labelled, int take, int[] poolLabels, int threshold, bool perClass)
    {
        var counts = new int[p[0].Length];
        foreach (var i in labelled) counts[poolLabels[i]]++;
        var median = counts.Where(c => c > 0).DefaultIfEmpty(0).Order().ElementAt(counts.Count(c => c > 0) / 2);
        bool Certain(int i) => perClass ? counts[ClassificationMetrics.ArgMax(p[i])] < threshold : median < threshold;
        return Unlabelled(p, labelled).OrderBy(i => QueueTurn(p, labelled, i, Certain(i)))
            .ThenBy(i => p[i].Max()).ThenBy(i => i).Take(take).ToList();
    }

    /// <summary>The production queue, plus the classes that have no label yet: the served model never answers them, so
    /// each takes its turn with the documents the zero-shot model answers with it (<paramref name="restricted"/>: its
    /// most probable class among the unlabelled ones), most certain first. A document in two classes' lists takes its
    /// earlier turn.</summary>
    private static IReadOnlyList<int> WithZeroShot(IReadOnlyList<float[]> p, IReadOnlyList<float[]> zero, IReadOnlySet<int> labelled, int take, int[] poolLabels, bool restricted)
    {
        var counts = new int[p[0].Length];
        foreach (var i in labelled) counts[poolLabels[i]]++;
        var unknown = Enumerable.Range(0, counts.Length).Where(c => counts[c] == 0).ToHashSet();
        // (document, class, sort key within the class: ascending)
        var entries = new List<(int Doc, int Class, double Key, double Top)>();
        foreach (var i in Unlabelled(p, labelled))
        {
            var predicted = ClassificationMetrics.ArgMax(p[i]);
            var top = p[i].Max();
            entries.Add((i, predicted, counts[predicted] < ReviewQueue.TypicalFirstBelow ? -top : top, top));
            if (labelled.Count == 0 || unknown.Count == 0) continue;  // the zero-shot model serves, or every class is known
            var z = restricted ? unknown.MaxBy(c => zero[i][c]) : ClassificationMetrics.ArgMax(zero[i]);
            if (unknown.Contains(z) && z != predicted) entries.Add((i, z, -zero[i][z], zero[i][z]));
        }
        var turn = new Dictionary<int, (int Turn, double Top)>();
        foreach (var group in entries.GroupBy(e => e.Class))
        {
            var ordered = group.OrderBy(e => e.Key).ThenBy(e => e.Doc).ToList();
            for (var t = 0; t < ordered.Count; t++)
                if (!turn.TryGetValue(ordered[t].Doc, out var had) || t < had.Turn) turn[ordered[t].Doc] = (t, ordered[t].Top);
        }
        return turn.OrderBy(x => x.Value.Turn).ThenBy(x => x.Value.Top).ThenBy(x => x.Key).Take(take).Select(x => x.Key).ToList();
    }

    /// <summary>Each predicted class in turn, a random one of its unlabelled documents each time.</summary>
    private static IReadOnlyList<int> ClassInTurnRandom(IReadOnlyList<float[]> p, IReadOnlySet<int> labelled, int take, Random random)
    {
        var shuffled = Unlabelled(p, labelled).OrderBy(_ => random.Next()).ToList();
        return shuffled.Select((i, order) => (i, turn: shuffled.Take(order).Count(j => ClassificationMetrics.ArgMax(p[j]) == ClassificationMetrics.ArgMax(p[i]))))
            .OrderBy(x => x.turn).Select(x => x.i).Take(take).ToList();
    }

    private static double Margin(float[] p)
    {
        var sorted = p.OrderByDescending(x => x).ToArray();
        return sorted[0] - (sorted.Length > 1 ? sorted[1] : 0);
    }

    /// <summary>Greedy k-center: each pick is the unlabelled document farthest from every labelled one (and from the
    /// earlier picks); with nothing labelled the first is the one nearest the pool's mean, the most typical page.</summary>
    private static IReadOnlyList<int> KCenter(IReadOnlyList<float[]> f, IReadOnlySet<int> labelled, int take)
    {
        var chosen = new List<int>();
        var nearest = Enumerable.Range(0, f.Count).Select(i => labelled.Count == 0 ? double.MaxValue
            : labelled.Min(j => Distance(f[i], f[j]))).ToArray();
        if (labelled.Count == 0)
        {
            var mean = new float[f[0].Length];
            foreach (var x in f) for (var d = 0; d < mean.Length; d++) mean[d] += x[d] / f.Count;
            var first = Enumerable.Range(0, f.Count).MinBy(i => Distance(f[i], mean));
            chosen.Add(first);
            for (var i = 0; i < f.Count; i++) nearest[i] = Distance(f[i], f[first]);
        }
        while (chosen.Count < take)
        {
            var next = Enumerable.Range(0, f.Count).Where(i => !labelled.Contains(i) && !chosen.Contains(i)).MaxBy(i => nearest[i]);
            chosen.Add(next);
            for (var i = 0; i < f.Count; i++) nearest[i] = Math.Min(nearest[i], Distance(f[i], f[next]));
        }
        return chosen;
    }

    private static double Distance(float[] a, float[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (double)(a[i] - b[i]);
        return s;
    }

    /// <summary>The page's region features and encoder vector, each scaled to unit length, side by side.</summary>
    private static float[] Features(PageInputs page)
    {
        static IEnumerable<float> Unit(float[] x)
        {
            var n = (float)Math.Sqrt(x.Sum(v => (double)v * v));
            return n > 0 ? x.Select(v => v / n) : x;
        }
        return [.. Unit(page.Vector), .. page.Regions is null ? [] : Unit(page.Regions)];
    }
}
