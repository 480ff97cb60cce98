using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>
/// Top-label calibration (Platt scaling of the predicted class's probability): the served confidence is
/// sigma(A logit(p_top) + B), the other classes share the rest in proportion to their probabilities, so the ranking
/// of classes does not change. The stacking's softmax alone comes out under-confident in the middle of the range
/// (out-of-fold, predictions at 0.55 were right 67% of the time, at 0.75 81%) because sixteen ridge scores spread
/// mass over runner-up classes; one logistic map of the top probability, fitted on the leave-one-out predictions of the
/// training documents, corrects that.
/// </summary>
public sealed record TopLabelCalibration(
    [property: JsonPropertyName("a")] double A,
    [property: JsonPropertyName("b")] double B)
{
    /// <summary>Below this many training documents, or without both right and wrong leave-one-out answers, nothing is fitted.</summary>
    public const int MinDocuments = 20;

    /// <summary>
    /// Fits A and B by the log-loss of "the top class is right" over (confidence, correct) pairs; null when the pairs
    /// cannot tell (too few, or all right, or all wrong). Newton's method on two parameters, a small ridge on A - 1 and B
    /// so that a near-separable set does not run off.
    /// </summary>
    public static TopLabelCalibration? Fit(IReadOnlyList<(double Confidence, bool Correct)> pairs)
    {
        if (pairs.Count < MinDocuments || pairs.All(p => p.Correct) || pairs.All(p => !p.Correct)) return null;
        const double penalty = 1e-2;
        double a = 1, b = 0;
        for (var iteration = 0; iteration < 50; iteration++)
        {
            // Gradient and Hessian of the mean log-loss plus penalty/2 ((a - 1)^2 + b^2).
            double ga = penalty * (a - 1), gb = penalty * b, haa = penalty, hab = 0, hbb = penalty;
            foreach (var (confidence, correct) in pairs)
            {
                var z = Logit(confidence);
                var q = Sigmoid(a * z + b);
                var g = (q - (correct ? 1 : 0)) / pairs.Count;
                var h = q * (1 - q) / pairs.Count;
                ga += g * z;
                gb += g;
                haa += h * z * z;
                hab += h * z;
                hbb += h;
            }
            var det = haa * hbb - hab * hab;
            if (det <= 1e-12) break;
            var da = (hbb * ga - hab * gb) / det;
            var db = (haa * gb - hab * ga) / det;
            a -= da;
            b -= db;
            if (Math.Abs(da) + Math.Abs(db) < 1e-10) break;
        }
        return double.IsFinite(a) && double.IsFinite(b) && a > 0 ? new TopLabelCalibration(a, b) : null;
    }

    /// <summary>The calibrated distribution: the top class at its calibrated confidence (kept strictly above the
    /// runner-up after rescaling, so the answer never changes), the others scaled to share the rest; zeros stay zero.</summary>
    public float[] Apply(float[] p)
    {
        var top = ClassificationMetrics.ArgMax(p);
        var rest = 1.0 - p[top];
        if (rest <= 0) return p;
        double second = 0;
        for (var c = 0; c < p.Length; c++)
            if (c != top) second = Math.Max(second, p[c]);
        // At second / (rest + second) the top and the runner-up would tie; a hair above it the top stays strictly on top.
        var floor = Math.Min(p[top], second / (rest + second) + 1e-6);
        var calibrated = Math.Max(Sigmoid(A * Logit(p[top]) + B), floor);
        var result = new float[p.Length];
        for (var c = 0; c < p.Length; c++)
            result[c] = c == top ? (float)calibrated : (float)(p[c] * (1 - calibrated) / rest);
        return result;
    }

    private static double Logit(double p)
    {
        p = Math.Clamp(p, 1e-6, 1 - 1e-6);
        return Math.Log(p / (1 - p));
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}
