using System.Globalization;
using Dsdc.Shared.Cli;
using Dsdc.Training;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>
/// <c>extraviews [--recipe fused-tvrc] [--all-only] [--reliability]</c>: more views stacked beside a fused recipe's, each
/// weight fitted by the same stacking on leave-one-out scores: the zero-shot model (class descriptions and cue words,
/// never fitted; also with weight 1), and nearest neighbours (per class, the highest cosine similarity to a training page
/// of the region features and of the text's TF-IDF). At 1, 2, 4 and 8 labels per class (5 seeded draws each, as
/// <c>learningcurve</c>) and over every labelled document by repeated k-fold; <c>--reliability</c> prints the
/// out-of-fold reliability table (confidence bins against accuracy).
/// </summary>
internal sealed class ExtraViewsCommand(TrainingDataLoader loader, ZeroShotServing zeroShot, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "extraviews";
    public string Usage => "[--recipe fused-tvrc] [--all-only] [--reliability]  the zero-shot model and nearest neighbours as stacked views";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var parameters = FusedRecipes.Named(cli.Value("--recipe") ?? TrainingOptions.DefaultCandidates[0]);
        var docs = await loader.LoadAllAsync(ct);
        var zs = zeroShot.Model;
        var prior = docs.ToDictionary(d => d.DocumentId, d => zs.Logits(d.Inputs), StringComparer.Ordinal);

        CvRecipe WithPrior(bool fitted) => (train, test, token) =>
        {
            var model = FusedModel.Train(parameters, train, token);
            var known = model.KnownClasses;
            double[] weights;
            if (fitted)
            {
                var scores = model.Views.Select(v => v.Ridge.LooScores).ToList();
                scores.Add(train.Select(t => prior[t.DocumentId]).ToArray());
                weights = Stacking.FitWeights(scores, train.Select(t => t.Label).ToList(), known);
            }
            else weights = [.. model.Views.Select(v => v.Weight), 1.0];
            return test.Select(t =>
            {
                var logits = new double[known.Length];
                for (var v = 0; v < model.Views.Count; v++)
                {
                    var s = model.Views[v].Scores(t.Inputs);
                    for (var c = 0; c < logits.Length; c++) logits[c] += weights[v] * s[c];
                }
                var z = prior[t.DocumentId];
                for (var c = 0; c < logits.Length; c++) logits[c] += weights[^1] * z[c];
                return Stacking.Softmax(logits, known);
            }).ToArray();
        };
        // Nearest neighbours as a view: per class, the highest cosine similarity of the page to a training page of that
        // class (regions features, and TF-IDF of the text), scaled; leave-one-out for the training pages (itself excluded).
        static float[] Unit(float[] v)
        {
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            return norm > 0 ? v.Select(x => x / norm).ToArray() : v;
        }
        static double[] Nearest(float[] page, IReadOnlyList<float[]> train, IReadOnlyList<int> labels, int skip, int classes)
        {
            var s = Enumerable.Repeat(-1.0, classes).ToArray();
            for (var i = 0; i < train.Count; i++)
            {
                if (i == skip) continue;
                double dot = 0;
                for (var j = 0; j < page.Length; j++) dot += page[j] * train[i][j];
                s[labels[i]] = Math.Max(s[labels[i]], dot);
            }
            return s.Select(x => 10 * x).ToArray();
        }
        CvRecipe WithNeighbours(bool text, bool regions) => (train, test, token) =>
        {
            var model = FusedModel.Train(parameters, train, token);
            var known = model.KnownClasses;
            var labels = train.Select(t => t.Label).ToList();
            var classes = known.Length;
            var extra = new List<(Func<PageInputs, float[]> Features, List<float[]> Train)>();
            if (regions)
            {
                var center = new float[train[0].Inputs.Regions!.Length];
                foreach (var t in train) for (var j = 0; j < center.Length; j++) center[j] += t.Inputs.Regions![j] / train.Count;
                Func<PageInputs, float[]> f = p => Unit(p.Regions!.Select((x, j) => x - center[j]).ToArray());
                extra.Add((f, train.Select(t => f(t.Inputs)).ToList()));
            }
            if (text)
            {
                var textView = model.Views.First(v => v.View is ViewKinds.Text or ViewKinds.Readings);
                Func<PageInputs, float[]> f = p => ((RawTextTfidf)textView.Features!).Transform(ViewFeatures.TextOf(textView.View, p));
                extra.Add((f, train.Select(t => f(t.Inputs)).ToList()));
            }
            var scores = model.Views.Select(v => v.Ridge.LooScores).ToList();
            foreach (var (_, rows) in extra)
                scores.Add(rows.Select((r, i) => Nearest(r, rows, labels, i, classes)).ToArray());
            var weights = Stacking.FitWeights(scores, labels, known);
            return test.Select(t =>
            {
                var logits = new double[classes];
                for (var v = 0; v < model.Views.Count; v++)
                {
                    var s = model.Views[v].Scores(t.Inputs);
                    for (var c = 0; c < classes; c++) logits[c] += weights[v] * s[c];
                }
                for (var e = 0; e < extra.Count; e++)
                {
                    var s = Nearest(extra[e].Features(t.Inputs), extra[e].Train, labels, -1, classes);
                    for (var c = 0; c < classes; c++) logits[c] += weights[model.Views.Count + e] * s[c];
                }
                return Stacking.Softmax(logits, known);
            }).ToArray();
        };
        var recipes = new (string Name, CvRecipe Recipe)[]
        {
            ("fused + nn(regions)", WithNeighbours(false, true)),
            ("fused + nn(text)", WithNeighbours(true, false)),
            ("fused + nn(text, regions)", WithNeighbours(true, true)),
            ("fused", CvRecipes.FusedRecipe(parameters)),
            ("fused + prior (stacked)", WithPrior(true)),
            ("fused + prior (weight 1)", WithPrior(false)),
        };
        string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
        foreach (var perClass in cli.Flag("--all-only") ? [] : new[] { 1, 2, 4, 8 })
            foreach (var (name, recipe) in recipes)
            {
                var accuracies = new List<double>();
                var f1s = new List<double>();
                foreach (var (train, test) in LearningCurveCommand.Draws(docs, perClass, 5, o.Seed))
                {
                    var p = recipe(train, test, ct);
                    var m = ClassificationMetrics.Compute(test.Select(t => t.Label).ToList(), p.Select(x => ClassificationMetrics.ArgMax(x)).ToList());
                    accuracies.Add(m.Accuracy);
                    f1s.Add(m.MacroF1);
                }
                Console.WriteLine($"{perClass} per class, {name,-26} accuracy {P(accuracies.Average())} (sd {P(RepeatedCrossValidation.Sd(accuracies))}), macro-F1 {f1s.Average():F3}");
            }
        foreach (var (name, recipe) in recipes)
        {
            var outcome = RepeatedCrossValidation.Run(docs, o.CvFolds, o.CvRepeats, o.Seed, recipe, o.ReviewTargetAccuracy, ct);
            var cv = outcome.Estimate;
            if (cli.Flag("--reliability"))
            {
                // Which score ranks the answers best for selective prediction: the top probability, or its margin over the runner-up.
                foreach (var (score, rank) in new (string, Func<OutOfFold, double>)[]
                         {
                             ("top probability", p => p.Confidence),
                             ("margin p1 - p2", p => p.Confidence - p.Probabilities.Where((_, c) => c != p.Predicted).Max()),
                             ("log(p1 / p2)", p => Math.Log(p.Confidence / Math.Max(1e-9, p.Probabilities.Where((_, c) => c != p.Predicted).Max()))),
                         })
                {
                    var ordered = outcome.Predictions.OrderByDescending(rank).ToList();
                    string At(double coverage) => P(ordered.Take((int)Math.Ceiling(coverage * ordered.Count)).Average(p => p.Predicted == p.Truth ? 1.0 : 0));
                    Console.WriteLine($"    ranked by {score}: accuracy at 50/70/90% coverage {At(0.5)}/{At(0.7)}/{At(0.9)}");
                }
            }
            if (cli.Flag("--reliability"))
                foreach (var bin in outcome.Predictions.GroupBy(p => Math.Min(9, (int)(p.Confidence * 10))).OrderBy(b => b.Key))
                    Console.WriteLine($"    confidence {bin.Key / 10.0:F1}-{(bin.Key + 1) / 10.0:F1}: {bin.Count(),4} predictions, mean confidence {bin.Average(p => p.Confidence):F3}, accuracy {bin.Average(p => p.Predicted == p.Truth ? 1.0 : 0):F3}");
            Console.WriteLine($"all, {name,-26} {FusedEstimate.Describe(cv)}");
        }
        return 0;
    }
}
