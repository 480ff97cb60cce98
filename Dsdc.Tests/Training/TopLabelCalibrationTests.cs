using Dsdc.Training;

namespace Dsdc.Tests.Training;

public sealed class TopLabelCalibrationTests
{
    /// <summary>The top class at <paramref name="c"/>, the other 15 sharing the rest.</summary>
    private static float[] Distribution(double c) => [(float)c, .. Enumerable.Repeat((float)((1 - c) / 15), 15)];

    /// <summary>(confidence, correct) pairs of an under-confident model: right with probability confidence + 0.2.</summary>
    private static List<(double Confidence, bool Correct)> UnderConfident(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var confidence = 0.15 + 0.8 * random.NextDouble();
            return (confidence, random.NextDouble() < Math.Min(1, confidence + 0.2));
        }).ToList();
    }

    private static TopLabelCalibration? Fit(IEnumerable<(double Confidence, bool Correct)> pairs) =>
        TopLabelCalibration.Fit(pairs.Select(p => (Distribution(p.Confidence), p.Correct)).ToList());

    private static double LogLoss(IEnumerable<(double Confidence, bool Correct)> pairs, Func<double, double> map) =>
        pairs.Average(p => -Math.Log(Math.Clamp(p.Correct ? map(p.Confidence) : 1 - map(p.Confidence), 1e-9, 1)));

    [Fact]
    public void FittedOnLeaveOneOutAnswersItLowersTheLogLossOfNewOnes()
    {
        var calibration = Fit(UnderConfident(300, 1));
        Assert.NotNull(calibration);

        var held = UnderConfident(2000, 2);
        double Calibrated(double c) => calibration.Apply(Distribution(c))[0];
        var before = LogLoss(held, c => c);
        var after = LogLoss(held, Calibrated);
        Assert.True(after < before - 0.02, $"held-out log-loss {before:F3} -> {after:F3}");
        Assert.True(Calibrated(0.5) > 0.6, $"a 0.5 that is right 70% of the time is served as {Calibrated(0.5):F3}");
    }

    /// <summary>Of two answers at the same probability, the one further ahead of its runner-up is more often right: the fit learns it.</summary>
    [Fact]
    public void TheLeadOverTheRunnerUpRanksAnswersAtTheSameProbability()
    {
        var random = new Random(4);
        var answers = Enumerable.Range(0, 600).Select(i =>
        {
            var close = i % 2 == 0;
            // Top at 0.5 either way; a close runner-up at 0.45, or the rest spread thin.
            float[] p = close ? [0.5f, 0.45f, .. Enumerable.Repeat(0.05f / 14, 14)] : Distribution(0.5);
            return (p, random.NextDouble() < (close ? 0.35 : 0.85));
        }).ToList();
        var calibration = TopLabelCalibration.Fit(answers)!;

        var close = calibration.Apply(answers[0].p)[0];
        var clear = calibration.Apply(answers[1].p)[0];
        Assert.True(calibration.C > 0, $"C = {calibration.C}");
        Assert.True(clear > close + 0.2, $"clear lead {clear:F3}, close runner-up {close:F3}");
    }

    [Fact]
    public void ItKeepsTheAnswerAndTheUnknownClassesAndSumsToOne()
    {
        var calibration = new TopLabelCalibration(0.4, -1.5);    // pulls every confidence down hard
        float[] p = [0.30f, 0.28f, 0f, 0.22f, 0.20f];
        var q = calibration.Apply(p);

        Assert.Equal(0, ClassificationMetrics.ArgMax(q));
        Assert.True(q[0] > q[1], $"{q[0]} vs {q[1]}");
        Assert.True(q[0] < p[0], "pulled down as far as the runner-up allows");
        Assert.Equal(0f, q[2]);
        Assert.Equal(1.0, q.Sum(), 5);
        // The others keep their proportions.
        Assert.Equal(p[3] / p[4], q[3] / q[4], 4);
    }

    [Fact]
    public void NothingIsFittedFromTooFewOrOneSidedAnswers()
    {
        Assert.Null(Fit(UnderConfident(TopLabelCalibration.MinDocuments - 1, 3)));
        Assert.Null(Fit(Enumerable.Range(0, 50).Select(i => (0.5 + i / 200.0, true))));
        Assert.Null(Fit(Enumerable.Range(0, 50).Select(i => (0.5 + i / 200.0, false))));
    }
}
