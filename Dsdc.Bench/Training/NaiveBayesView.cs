namespace Dsdc.Training;

/// <summary>
/// A naive Bayes view over non-negative term weights (the text view's TF-IDF): multinomial (the class's own terms) or
/// complement (Rennie et al. 2003: the terms of every other class, weights normalised per class). Uniform class prior,
/// as the class-balanced ridge. Leave-one-out scores are exact: a left-out document's terms are taken out of the counts
/// it added to. Laplace smoothing chosen by leave-one-out accuracy (ties: log-loss of the scores' softmax).
/// A generative classifier reaches its asymptote with fewer examples than a discriminative one (Ng and Jordan 2002).
/// </summary>
internal static class NaiveBayesView
{
    public static (double[][] Loo, Func<float[], double[]> Score, double Alpha) Fit(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels,
        bool complement, double[]? alphas = null)
    {
        var classes = Shared.DocumentClasses.Count;
        var dims = rows[0].Length;
        var sums = new double[classes][];
        for (var c = 0; c < classes; c++) sums[c] = new double[dims];
        var rowTotals = new double[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var s = sums[labels[i]];
            var r = rows[i];
            for (var k = 0; k < dims; k++)
            {
                s[k] += r[k];
                rowTotals[i] += r[k];
            }
        }
        var all = new double[dims];
        for (var c = 0; c < classes; c++)
            for (var k = 0; k < dims; k++) all[k] += sums[c][k];
        // The counts a class's weights are estimated from: its own (multinomial) or every other class's (complement).
        double[][] counts = complement
            ? sums.Select(s => all.Select((a, k) => a - s[k]).ToArray()).ToArray()
            : sums;
        var totals = counts.Select(s => s.Sum()).ToArray();
        var nonzero = rows.Select(r => Enumerable.Range(0, dims).Where(k => r[k] != 0).ToArray()).ToArray();
        var known = Stacking.KnownOf(labels);

        // Scores of a row with its own counts taken out where it added to them (leave-one-out: its label given) or as fitted.
        var logSums = new double[classes];
        double[] Scores(float[] x, int[] nz, double xTotal, double alpha, int? leftOutLabel)
        {
            var scores = new double[classes];
            for (var c = 0; c < classes; c++)
            {
                // The row took part in class c's counts: its own class (multinomial) or every other class (complement).
                var remove = leftOutLabel is { } y && (complement ? c != y : c == y);
                var denominator = totals[c] - (remove ? xTotal : 0) + alpha * dims;
                var cc = counts[c];
                double dot = 0;
                for (var j = 0; j < nz.Length; j++)
                {
                    var k = nz[j];
                    dot += x[k] * Math.Log((cc[k] - (remove ? x[k] : 0) + alpha) / denominator);
                }
                if (!complement) scores[c] = dot;
                else
                {
                    // Rennie's weight normalisation: w_ck / sum_k |w_ck|, the score the negated dot product.
                    // Every (count + alpha) / denominator is below 1, so |log| = log(denominator) - log(count + alpha).
                    var norm = dims * Math.Log(denominator) - logSums[c];
                    if (remove)
                        foreach (var k in nz) norm += Math.Log(cc[k] + alpha) - Math.Log(cc[k] - x[k] + alpha);
                    scores[c] = -dot / norm;
                }
            }
            return scores;
        }

        var grid = alphas ?? [0.001, 0.003, 0.01, 0.03, 0.1];
        (double Alpha, double[][] Loo, int Right, double LogLoss)? best = null;
        foreach (var alpha in grid)
        {
            for (var c = 0; c < classes; c++) logSums[c] = counts[c].Sum(v => Math.Log(v + alpha));
            var loo = rows.Select((r, i) => Scores(r, nonzero[i], rowTotals[i], alpha, labels[i])).ToArray();
            var right = loo.Where((s, i) => ClassificationMetrics.ArgMax(Stacking.Softmax(s, known)) == labels[i]).Count();
            var logLoss = loo.Select((s, i) => -Math.Log(Math.Max(Stacking.Softmax(s, known)[labels[i]], 1e-12))).Average();
            if (best is null || right > best.Value.Right || (right == best.Value.Right && logLoss < best.Value.LogLoss))
                best = (alpha, loo, right, logLoss);
        }
        var chosen = best!.Value.Alpha;
        for (var c = 0; c < classes; c++) logSums[c] = counts[c].Sum(v => Math.Log(v + chosen));
        return (best.Value.Loo, x =>
        {
            var nz = Enumerable.Range(0, dims).Where(k => x[k] != 0).ToArray();
            return Scores(x, nz, 0, chosen, null);
        }, chosen);
    }
}
