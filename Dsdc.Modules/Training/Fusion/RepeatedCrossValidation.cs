namespace Dsdc.Training;

/// <summary>How one recipe turns a training side into probabilities for a test side (trains from scratch each time).</summary>
public delegate float[][] CvRecipe(IReadOnlyList<LabelledPage> train, IReadOnlyList<LabelledPage> test, CancellationToken ct);

/// <summary>The out-of-fold predictions of one recipe on one set of folds, kept for paired comparisons.</summary>
public sealed record CvOutcome(CvEstimate Estimate, IReadOnlyList<OutOfFold> Predictions, IReadOnlyList<ClassificationMetrics> PerRepeat);

/// <summary>
/// Repeated stratified k-fold cross-validation over whole documents, seeded: the same documents and seed give the same
/// folds, so two recipes are compared on exactly the same splits (fold by fold). With fewer documents of a class than
/// folds, that class's documents are spread over as many folds as it has; with one, it is only ever tested blind.
/// </summary>
public static class RepeatedCrossValidation
{
    /// <summary>Fold of each document for each repeat: [repeat][document].</summary>
    public static int[][] Folds(IReadOnlyList<int> labels, int k, int repeats, int seed)
    {
        var result = new int[repeats][];
        for (var r = 0; r < repeats; r++)
        {
            var folds = new int[labels.Count];
            var random = new Random(unchecked(seed * 31 + r));
            var next = random.Next(k);
            foreach (var group in labels.Select((l, i) => (l, i)).GroupBy(x => x.l).OrderBy(g => g.Key))
            {
                var members = group.Select(x => x.i).ToArray();
                random.Shuffle(members);
                // Round-robin, continuing from where the previous class stopped, so small classes do not all land in fold 0.
                foreach (var m in members) folds[m] = next++ % k;
            }
            result[r] = folds;
        }
        return result;
    }

    /// <summary>The number of folds that fits the data: <paramref name="k"/>, fewer when there are few documents.</summary>
    public static int FoldsFor(int documents, int k) => Math.Max(2, Math.Min(k, documents / 2));

    public static CvOutcome Run(IReadOnlyList<LabelledPage> docs, int k, int repeats, int seed, CvRecipe recipe, double targetAccuracy,
        CancellationToken ct = default, Action<string>? log = null)
    {
        var labels = docs.Select(d => d.Label).ToList();
        var folds = Folds(labels, k, repeats, seed);
        var foldAccuracies = new List<double>();
        var foldF1 = new List<double>();
        var all = new List<OutOfFold>();
        var perRepeat = new List<ClassificationMetrics>();
        for (var r = 0; r < repeats; r++)
        {
            var oof = new OutOfFold[docs.Count];
            for (var f = 0; f < k; f++)
            {
                ct.ThrowIfCancellationRequested();
                var testIndex = Enumerable.Range(0, docs.Count).Where(i => folds[r][i] == f).ToList();
                if (testIndex.Count == 0) continue;
                var train = docs.Where((_, i) => folds[r][i] != f).ToList();
                var test = testIndex.Select(i => docs[i]).ToList();
                var probabilities = recipe(train, test, ct);
                var correct = 0;
                for (var j = 0; j < testIndex.Count; j++)
                {
                    oof[testIndex[j]] = new OutOfFold(docs[testIndex[j]].Label, probabilities[j]);
                    if (oof[testIndex[j]].Predicted == oof[testIndex[j]].Truth) correct++;
                }
                foldAccuracies.Add(correct / (double)testIndex.Count);
                log?.Invoke($"repeat {r + 1}/{repeats} fold {f + 1}/{k}: {foldAccuracies[^1]:P1} of {testIndex.Count}");
            }
            var metrics = ClassificationMetrics.Compute(labels, oof.Select(o => o.Predicted).ToList());
            perRepeat.Add(metrics);
            foldF1.Add(metrics.MacroF1);
            all.AddRange(oof);
        }
        var estimate = new CvEstimate(k, repeats, seed, docs.Count,
            perRepeat.Average(m => m.Accuracy), Sd(foldAccuracies), Ci95(foldAccuracies, k),
            perRepeat.Average(m => m.MacroF1), Sd(foldF1),
            Calibration.LogLoss(all), Calibration.ExpectedCalibrationError(all), foldAccuracies, Calibration.Curve(all),
            // Each document is pooled once per repeat: at least 5 documents, not 5 predictions, above the threshold.
            Calibration.ReviewThreshold(all, targetAccuracy, minimum: 5 * repeats), targetAccuracy, labels.GroupBy(l => l).Min(g => g.Count()),
            all.Average(o => o.Confidence));
        return new CvOutcome(estimate, all, perRepeat);
    }

    public static double Sd(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>Half-width of the 95% interval of the mean of J k-fold scores, corrected for overlapping training sides:
    /// variance x (1/J + 1/(k-1)) (Nadeau and Bengio's corrected resampled t), with Student's t quantile at J - 1 degrees
    /// of freedom (2.145 for 5-fold x 3).</summary>
    public static double Ci95(IReadOnlyList<double> values, int k) =>
        values.Count < 2 ? double.NaN
        : StudentT.Quantile(0.975, values.Count - 1) * Math.Sqrt(Math.Pow(Sd(values), 2) * (1.0 / values.Count + 1.0 / Math.Max(1, k - 1)));

    /// <summary>The one-sided 95% quantile of Student's t at J - 1 degrees of freedom: the threshold the paired t of a
    /// challenger must exceed when <see cref="TrainingOptions.PromotionT"/> is 0 (1.761 for 5-fold x 3). The best of
    /// several challengers is the luckiest of them: with m of them each is held to 5%/m (Bonferroni; 2.145 for two), so
    /// that a job promotes a challenger no better than the champion at most 5% of the time. A configured value is used as it is.</summary>
    public static double PromotionThreshold(int folds, double configured, int challengers = 1) =>
        configured > 0 ? configured : StudentT.Quantile(1 - PairedDocuments.FalsePromotionRate / Math.Max(1, challengers), Math.Max(1, folds - 1));

    /// <summary>
    /// The paired comparison of two recipes on the same folds: the per-fold accuracy differences (challenger - champion),
    /// their mean, and the corrected resampled t statistic. The challenger wins when t exceeds <paramref name="threshold"/>
    /// (0: <see cref="PromotionThreshold"/>, the one-sided 95% quantile of Student's t at J - 1 degrees of freedom).
    /// </summary>
    public static (double MeanDifference, double T, bool ChallengerWins) Compare(IReadOnlyList<double> challenger, IReadOnlyList<double> champion, int k,
        double threshold = 0, int challengers = 1)
    {
        threshold = PromotionThreshold(challenger.Count, threshold, challengers);
        if (challenger.Count != champion.Count || challenger.Count == 0) throw new ArgumentException("the two recipes ran on different folds");
        var diffs = challenger.Select((c, i) => c - champion[i]).ToList();
        var mean = diffs.Average();
        var sd = Sd(diffs);
        var se = Math.Sqrt(sd * sd * (1.0 / diffs.Count + 1.0 / Math.Max(1, k - 1)));
        var t = se < 1e-12 ? (mean > 1e-12 ? double.PositiveInfinity : 0) : mean / se;
        return (mean, t, t > threshold);
    }
}
