using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>
/// Top-label calibration: the served confidence of the predicted class is
/// sigma(A logit(p_top) + C log(p_top / p_second) + B), the other classes share the rest in proportion to their
/// probabilities, so the answer never changes. The stacking's softmax alone comes out under-confident in the middle of
/// the range (out-of-fold, predictions at 0.55 were right 67% of the time, at 0.75 81%) because sixteen ridge scores
/// spread mass over runner-up classes; and how far the answer leads the runner-up says more about whether it is right
/// than its probability alone. One logistic map of the two, fitted on the leave-one-out predictions of the training
/// documents, corrects the first and ranks answers by the second, which is what the review threshold cuts.
/// </summary>
public sealed record TopLabelCalibration(
    [property: JsonPropertyName("a")] double A,
    [property: JsonPropertyName("b")] double B,
    [property: JsonPropertyName("c")] double C = 0)
{
    /// <summary>Below this many training documents, or without both right and wrong leave-one-out answers, nothing is fitted.</summary>
    public const int MinDocuments = 20;

    /// <summary>
    /// Fits A, C and B by the log-loss of "the top class is right" over leave-one-out probability vectors; null when they
    /// cannot tell (too few, or all right, or all wrong). Newton's method on three parameters, with a small ridge towards
    /// the identity (A = 1, B = C = 0) so that a near-separable set does not run off.
    /// </summary>
    public static TopLabelCalibration? Fit(IReadOnlyList<(float[] Probabilities, bool Correct)> answers)
    {
        if (answers.Count < MinDocuments || answers.All(p => p.Correct) || answers.All(p => !p.Correct)) return null;
        const double penalty = 1e-2;
        var features = answers.Select(a =>
        {
            var top = ClassificationMetrics.ArgMax(a.Probabilities);
            return Features(a.Probabilities[top], Second(a.Probabilities, top));
        }).ToList();
        double[] theta = [1, 0, 0];   // A, C, B
        double[] prior = [1, 0, 0];
        for (var iteration = 0; iteration < 50; iteration++)
        {
            var g = new double[3];
            var h = new double[3, 3];
            for (var j = 0; j < 3; j++)
            {
                g[j] = penalty * (theta[j] - prior[j]);
                h[j, j] = penalty;
            }
            for (var i = 0; i < answers.Count; i++)
            {
                var x = features[i];
                var q = Sigmoid(theta[0] * x[0] + theta[1] * x[1] + theta[2] * x[2]);
                var r = (q - (answers[i].Correct ? 1 : 0)) / answers.Count;
                var w = q * (1 - q) / answers.Count;
                for (var j = 0; j < 3; j++)
                {
                    g[j] += r * x[j];
                    for (var k = 0; k < 3; k++) h[j, k] += w * x[j] * x[k];
                }
            }
            var step = Solve(h, g);
            if (step is null) break;
            for (var j = 0; j < 3; j++) theta[j] -= step[j];
            if (step.Sum(Math.Abs) < 1e-10) break;
        }
        return theta.All(double.IsFinite) && theta[0] + theta[1] > 0 ? new TopLabelCalibration(theta[0], theta[2], theta[1]) : null;
    }

    /// <summary>The calibrated distribution: the top class at its calibrated confidence (kept strictly above the
    /// runner-up after rescaling, so the answer never changes), the others scaled to share the rest; zeros stay zero.</summary>
    public float[] Apply(float[] p)
    {
        var top = ClassificationMetrics.ArgMax(p);
        var rest = 1.0 - p[top];
        if (rest <= 0) return p;
        var second = Second(p, top);
        var x = Features(p[top], second);
        // At second / (rest + second) the top and the runner-up would tie; a hair above it the top stays strictly on top.
        var floor = Math.Min(p[top], second / (rest + second) + 1e-6);
        var calibrated = Math.Max(Sigmoid(A * x[0] + C * x[1] + B * x[2]), floor);
        var result = new float[p.Length];
        for (var c = 0; c < p.Length; c++)
            result[c] = c == top ? (float)calibrated : (float)(p[c] * (1 - calibrated) / rest);
        return result;
    }

    /// <summary>logit(p_top), log(p_top / p_second) and 1.</summary>
    private static double[] Features(double top, double second)
    {
        var first = Math.Clamp(top, 1e-6, 1 - 1e-6);
        return [Math.Log(first / (1 - first)), Math.Log(first / Math.Max(second, 1e-6)), 1];
    }

    private static double Second(float[] p, int top)
    {
        double second = 0;
        for (var c = 0; c < p.Length; c++)
            if (c != top) second = Math.Max(second, p[c]);
        return second;
    }

    /// <summary>Gaussian elimination with partial pivoting on a 3x3 system; null when singular.</summary>
    private static double[]? Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = new double[n, n + 1];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n] = b[i];
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(m[r, col]));
            if (Math.Abs(m[pivot, col]) < 1e-14) return null;
            for (var j = 0; j <= n; j++) (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            for (var r = 0; r < n; r++)
            {
                if (r == col) continue;
                var f = m[r, col] / m[col, col];
                for (var j = col; j <= n; j++) m[r, j] -= f * m[col, j];
            }
        }
        return Enumerable.Range(0, n).Select(i => m[i, n] / m[i, i]).ToArray();
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}
