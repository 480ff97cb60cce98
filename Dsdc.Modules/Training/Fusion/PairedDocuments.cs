namespace Dsdc.Training;

/// <summary>
/// Two models compared on the same documents (the stored test side): McNemar's test. Only the documents on which they
/// disagree count: b, those only the challenger gets right, and c, those only the champion gets right. With no
/// difference between the models either is as likely, so z = sign(b - c) (|b - c| - 1) / sqrt(b + c) (continuity
/// corrected) is about standard normal; the challenger wins when z exceeds the threshold, by default the one-sided 95%
/// quantile 1.645 (<see cref="TrainingOptions.PromotionT"/> when set). Five disagreements all in the challenger's favour
/// are the fewest that win against one challenger. The best of m challengers is held to 5%/m (Bonferroni: 1.960 for
/// two, which takes 6).
/// </summary>
public static class PairedDocuments
{
    /// <summary>How often, at most, a job may promote a challenger that is no better than the champion.</summary>
    public const double FalsePromotionRate = 0.05;

    /// <summary>The standard normal's one-sided 95% quantile.</summary>
    public const double DefaultThreshold = 1.6448536;

    /// <summary>The configured threshold, or the normal's one-sided quantile at 5% over <paramref name="challengers"/>.</summary>
    public static double Threshold(double configured, int challengers = 1) =>
        configured > 0 ? configured : NormalQuantile(1 - FalsePromotionRate / Math.Max(1, challengers));

    /// <summary>The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).</summary>
    public static double NormalQuantile(double p)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), "needs 0 < p < 1");
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low) return -NormalQuantile(1 - p);
        var m = p - 0.5;
        var r = m * m;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * m / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }

    public readonly record struct Comparison(int ChallengerOnly, int ChampionOnly, double Z, double Threshold)
    {
        public bool ChallengerWins => Z > Threshold;

        /// <summary>The challenger is worse by more than the noise (the same test the other way round).</summary>
        public bool ChallengerLoses => -Z > Threshold;

        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"right where the other is wrong: {ChallengerOnly} vs {ChampionOnly} documents, McNemar z {Z:F2} (threshold {Threshold:F2})");
    }

    /// <summary>Compares the per-document correctness of two models on the same documents, in the same order.</summary>
    public static Comparison Compare(IReadOnlyList<bool> challengerRight, IReadOnlyList<bool> championRight, double threshold = 0, int challengers = 1)
    {
        if (challengerRight.Count != championRight.Count) throw new ArgumentException("the two models answered different documents");
        int b = 0, c = 0;
        for (var i = 0; i < challengerRight.Count; i++)
        {
            if (challengerRight[i] && !championRight[i]) b++;
            else if (!challengerRight[i] && championRight[i]) c++;
        }
        var z = b + c == 0 ? 0 : Math.Sign(b - c) * Math.Max(0, Math.Abs(b - c) - 1) / Math.Sqrt(b + c);
        return new Comparison(b, c, z, Threshold(threshold, challengers));
    }
}
