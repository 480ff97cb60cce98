namespace Dsdc.Training;

/// <summary>
/// Two models compared on the same documents (the stored test side): McNemar's test. Only the documents on which they
/// disagree count: b, those only the challenger gets right, and c, those only the champion gets right. With no
/// difference between the models either is as likely, so z = sign(b - c) (|b - c| - 1) / sqrt(b + c) (continuity
/// corrected) is about standard normal; the challenger wins when z exceeds the threshold, by default the one-sided 95%
/// quantile 1.645 (<see cref="TrainingOptions.PromotionT"/> when set). Five disagreements all in the challenger's favour
/// are the fewest that win.
/// </summary>
public static class PairedDocuments
{
    /// <summary>The standard normal's one-sided 95% quantile.</summary>
    public const double DefaultThreshold = 1.6448536;

    public static double Threshold(double configured) => configured > 0 ? configured : DefaultThreshold;

    public readonly record struct Comparison(int ChallengerOnly, int ChampionOnly, double Z, double Threshold)
    {
        public bool ChallengerWins => Z > Threshold;

        /// <summary>The challenger is worse by more than the noise (the same test the other way round).</summary>
        public bool ChallengerLoses => -Z > Threshold;

        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"right where the other is wrong: {ChallengerOnly} vs {ChampionOnly} documents, McNemar z {Z:F2} (threshold {Threshold:F2})");
    }

    /// <summary>Compares the per-document correctness of two models on the same documents, in the same order.</summary>
    public static Comparison Compare(IReadOnlyList<bool> challengerRight, IReadOnlyList<bool> championRight, double threshold = 0)
    {
        if (challengerRight.Count != championRight.Count) throw new ArgumentException("the two models answered different documents");
        int b = 0, c = 0;
        for (var i = 0; i < challengerRight.Count; i++)
        {
            if (challengerRight[i] && !championRight[i]) b++;
            else if (!challengerRight[i] && championRight[i]) c++;
        }
        var z = b + c == 0 ? 0 : Math.Sign(b - c) * Math.Max(0, Math.Abs(b - c) - 1) / Math.Sqrt(b + c);
        return new Comparison(b, c, z, Threshold(threshold));
    }
}
