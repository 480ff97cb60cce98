using Dsdc.Training;

namespace Dsdc.Tests.Training;

public sealed class RidgeViewTests
{
    /// <summary>
    /// On features that carry no information (random labels, more dimensions than documents) the leave-one-out scores
    /// must be no better than chance: a leave-one-out formula that forgets the intercept's leverage reads 100% here.
    /// </summary>
    /// <summary>
    /// The fused recipes' text view reads the page's main OCR text and its extra readings together (Ocr:ExtraReadings):
    /// words that only another reading caught are learnt and served; a model whose view is the plain text (an artifact
    /// trained before the readings) still reads the main text alone.
    /// </summary>
    [Fact]
    public void TheReadingsViewLearnsFromEveryOcrReadingOfThePage()
    {
        string[] cue = ["invoice total amount due remit", "memorandum subject from date copies"];
        PageInputs Page(int label, int i) => new([], $"scanned page {i} of the archive", []) { Readings = $"{cue[label]} {i}\f{cue[label]}" };
        var train = Enumerable.Range(0, 12).Select(i => new LabelledPage($"doc{i:D2}", i % 2, Page(i % 2, i))).ToList();

        Assert.Equal(ViewKinds.Readings, FusedRecipes.Named("fused-tvr").Views[0].View);
        Assert.Equal("scanned page 1 of the archive\f" + cue[1] + " 1\f" + cue[1], ViewFeatures.TextOf(ViewKinds.Readings, Page(1, 1)));
        Assert.Equal("scanned page 1 of the archive", ViewFeatures.TextOf(ViewKinds.Text, Page(1, 1)));
        Assert.Equal("plain", new PageInputs([], "plain", []).AllReadings);

        var readings = FusedModel.Train(CvRecipes.Fused(ViewKinds.Readings), train, TestContext.Current.CancellationToken);
        var plain = FusedModel.Train(CvRecipes.Fused(ViewKinds.Text), train, TestContext.Current.CancellationToken);
        for (var label = 0; label < 2; label++)
        {
            var unseen = Page(label, 99);
            var p = readings.Predict(unseen);
            Assert.True(p[label] > 0.7f, $"class {label}: {p[label]}");
            Assert.True(Math.Abs(plain.Predict(unseen)[0] - plain.Predict(unseen)[1]) < 0.2f, "the main text alone says nothing of the class");
        }
    }

    [Fact]
    public void LeaveOneOutScoresAreHonestOnNoise()
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 300).Select(_ => (float)random.NextDouble()).ToArray()).ToList();
        var labels = Enumerable.Range(0, 64).Select(i => i % 4).ToList();
        var fit = RidgeView.Fit(rows, labels, standardize: true);
        var accuracy = fit.LooScores.Select((s, i) => Array.IndexOf(s, s.Max()) == labels[i] ? 1.0 : 0).Average();
        Assert.InRange(accuracy, 0, 0.45);
    }

    [Fact]
    public void LeaveOneOutAgreesWithRefittingWithoutTheDocument()
    {
        // Separable classes: the leave-one-out predictions must match fits made without each document.
        var random = new Random(11);
        var labels = Enumerable.Range(0, 40).Select(i => i % 2).ToList();
        var rows = labels.Select(l => Enumerable.Range(0, 20).Select(j => (float)(random.NextDouble() + (j == l ? 2 : 0))).ToArray()).ToList();
        var fit = RidgeView.Fit(rows, labels, standardize: false);
        for (var i = 0; i < rows.Count; i += 7)
        {
            var without = RidgeView.Fit(rows.Where((_, j) => j != i).ToList(), labels.Where((_, j) => j != i).ToList(), standardize: false);
            var refit = without.Scores(rows[i]);
            Assert.Equal(Array.IndexOf(refit, refit.Max()), Array.IndexOf(fit.LooScores[i], fit.LooScores[i].Max()));
        }
        Assert.True(fit.LooScores.Select((s, i) => Array.IndexOf(s, s.Max()) == labels[i] ? 1.0 : 0).Average() > 0.9);
    }

    [Fact]
    public void AGivenRegularisationIsTheOneUsed()
    {
        var random = new Random(3);
        var labels = Enumerable.Range(0, 30).Select(i => i % 3).ToList();
        var rows = labels.Select(l => Enumerable.Range(0, 12).Select(j => (float)(random.NextDouble() + (j == l ? 1 : 0))).ToArray()).ToList();
        var chosen = RidgeView.Fit(rows, labels, standardize: true);
        var other = RidgeView.Alphas.First(a => a != chosen.Alpha);

        var fixedFit = RidgeView.Fit(rows, labels, standardize: true, alphas: [other]);

        Assert.Equal(other, fixedFit.Alpha);
        Assert.Equal(chosen.Weights, RidgeView.Fit(rows, labels, standardize: true, alphas: [chosen.Alpha]).Weights);
        Assert.NotEqual(chosen.Weights, fixedFit.Weights);
    }

    /// <summary>
    /// One informative view and one of noise: with enough documents per class the stacking trusts the informative one;
    /// with two per class (median below <see cref="Stacking.MinDocumentsPerClassForViewWeights"/>) both weigh the same,
    /// and only their common temperature is fitted.
    /// </summary>
    [Theory]
    [InlineData(2, true)]
    [InlineData(6, false)]
    public void TheViewsWeighTheSameUntilEachClassHasThreeDocuments(int perClass, bool equal)
    {
        var random = new Random(3);
        var known = Enumerable.Range(0, Dsdc.Shared.DocumentClasses.Count).Select(c => c < 4).ToArray();
        var labels = Enumerable.Range(0, 4 * perClass).Select(i => i % 4).ToList();
        double[] Scores(int label, double signal) =>
            Enumerable.Range(0, known.Length).Select(c => (c == label ? signal : 0) + random.NextDouble() - 0.5).ToArray();
        var informative = labels.Select(l => Scores(l, 1.5)).ToArray();
        var noise = labels.Select(l => Scores(l, 0)).ToArray();

        var weights = Stacking.FitViewWeights([informative, noise], labels, known);

        Assert.All(weights, w => Assert.True(w > 0 && double.IsFinite(w)));
        if (equal) Assert.Equal(weights[0], weights[1]);
        else Assert.True(weights[0] > 3 * weights[1], $"{weights[0]} against {weights[1]}");
    }

    [Fact]
    public void PairedComparisonPromotesOnlyBeyondTheNoise()
    {
        double[] champion = [0.60, 0.62, 0.58, 0.61, 0.59, 0.60, 0.63, 0.57, 0.60, 0.61];
        var slightlyBetter = champion.Select((a, i) => a + (i % 2 == 0 ? 0.03 : -0.02)).ToArray();
        var clearlyBetter = champion.Select(a => a + 0.08).ToArray();
        Assert.False(RepeatedCrossValidation.Compare(slightlyBetter, champion, 5).ChallengerWins);
        Assert.True(RepeatedCrossValidation.Compare(clearlyBetter, champion, 5).ChallengerWins);
        Assert.False(RepeatedCrossValidation.Compare(champion, clearlyBetter, 5).ChallengerWins);
    }

    /// <summary>Student's t quantiles against the published table; the interval and the promotion test read them at J - 1
    /// degrees of freedom (a normal quantile made the 15-fold interval 9% too narrow).</summary>
    [Theory]
    [InlineData(0.975, 14, 2.1448)]
    [InlineData(0.95, 14, 1.7613)]
    [InlineData(0.975, 5, 2.5706)]
    [InlineData(0.95, 1, 6.3138)]
    [InlineData(0.975, 1000, 1.9623)]
    [InlineData(0.025, 14, -2.1448)]
    public void StudentsTQuantilesMatchTheTable(double p, int dof, double expected)
    {
        Assert.Equal(expected, StudentT.Quantile(p, dof), 3);
        Assert.Equal(p, StudentT.Cdf(StudentT.Quantile(p, dof), dof), 9);
    }

    [Fact]
    public void TheIntervalAndThePromotionThresholdUseStudentsTAtJMinusOneDegreesOfFreedom()
    {
        double[] folds = [0.60, 0.62, 0.58, 0.61, 0.59, 0.60, 0.63, 0.57, 0.60, 0.61, 0.62, 0.58, 0.60, 0.59, 0.61];
        var se = Math.Sqrt(Math.Pow(RepeatedCrossValidation.Sd(folds), 2) * (1.0 / 15 + 1.0 / 4));
        Assert.Equal(2.1448 * se, RepeatedCrossValidation.Ci95(folds, 5), 4);
        Assert.Equal(1.7613, RepeatedCrossValidation.PromotionThreshold(15, 0), 3);
        Assert.Equal(2.0, RepeatedCrossValidation.PromotionThreshold(15, 2.0));
        // The best of two challengers is held to 2.5% each (Bonferroni): the two-sided 95% quantile; a set value stays.
        Assert.Equal(2.1448, RepeatedCrossValidation.PromotionThreshold(15, 0, challengers: 2), 3);
        Assert.Equal(2.0, RepeatedCrossValidation.PromotionThreshold(15, 2.0, challengers: 2));
        // The same difference that wins alone does not win as the best of four.
        double[] champion = [0.60, 0.62, 0.58, 0.61, 0.59, 0.60, 0.63, 0.57, 0.60, 0.61, 0.62, 0.58, 0.60, 0.59, 0.61];
        var challenger = champion.Select((a, i) => a + (i % 2 == 0 ? 0.05 : 0.0)).ToArray();
        var (_, t, alone) = RepeatedCrossValidation.Compare(challenger, champion, 5);
        Assert.InRange(t, RepeatedCrossValidation.PromotionThreshold(15, 0), RepeatedCrossValidation.PromotionThreshold(15, 0, challengers: 4));
        Assert.True(alone);
        Assert.False(RepeatedCrossValidation.Compare(challenger, champion, 5, challengers: 4).ChallengerWins);
    }

    [Theory]
    [InlineData(0.95, 1.6448536)]
    [InlineData(0.975, 1.9599640)]
    [InlineData(0.5, 0)]
    [InlineData(0.99, 2.3263479)]
    [InlineData(0.0125, -2.2414027)]
    [InlineData(0.999, 3.0902323)]
    public void NormalQuantilesMatchTheTable(double p, double expected)
    {
        Assert.Equal(expected, PairedDocuments.NormalQuantile(p), 6);
        Assert.Equal(1.9599640, PairedDocuments.Threshold(0, challengers: 2), 6);
    }

    /// <summary>Answers tied at one confidence (a fold whose training side held one class answers everything at 1.0) are
    /// ordered wrong ones first within the tie, so the curve's accuracy never depends on the documents' order.</summary>
    [Fact]
    public void TheCoverageCurveTakesTiesPessimistically()
    {
        OutOfFold Answer(bool right) => new(0, right ? [1f, 0f] : [0f, 1f]);
        var rightFirst = new[] { Answer(true), Answer(true), Answer(false), Answer(false) };
        var wrongFirst = rightFirst.Reverse().ToArray();

        Assert.Equal(Calibration.Curve(rightFirst, 4), Calibration.Curve(wrongFirst, 4));
        Assert.Equal(0.0, Calibration.Curve(rightFirst, 4)[0].Accuracy);
    }

    [Fact]
    public void ReviewThresholdReachesTheTargetAccuracy()
    {
        // 10 confident right answers, then 10 unsure ones of which half are wrong.
        var predictions = Enumerable.Range(0, 20).Select(i =>
        {
            var p = new float[16];
            var confidence = i < 10 ? 0.9f - i * 0.01f : 0.4f - (i - 10) * 0.01f;
            p[0] = confidence;
            p[1] = 1 - confidence;
            return new OutOfFold(i < 10 || i % 2 == 0 ? 0 : 1, p);
        }).ToList();
        var threshold = Calibration.ReviewThreshold(predictions, 0.9);
        double AccuracyFrom(double t) => predictions.Where(p => p.Confidence >= t).Average(p => p.Predicted == p.Truth ? 1.0 : 0);
        Assert.True(AccuracyFrom(threshold) >= 0.9);
        // The lowest such threshold: one step lower falls below the target.
        var lower = predictions.Select(p => p.Confidence).Where(c => c < threshold).DefaultIfEmpty(-1).Max();
        Assert.True(lower < 0 || AccuracyFrom(lower) < 0.9, $"threshold {threshold}, next {lower}");
        Assert.True(threshold < 0.81, "the unsure but right answers just below the sure ones count too");
        Assert.Equal(1.0, Calibration.Curve(predictions)[0].Accuracy);
        Assert.Equal(1.0, Calibration.ReviewThreshold([new OutOfFold(0, predictions[15].Probabilities)], 0.9));
    }

    /// <summary>With 729 pooled predictions (243 documents x 3 repeats), "50% coverage" is the 365 most confident, not 364.</summary>
    [Theory]
    [InlineData(729)]
    [InlineData(243)]
    [InlineData(17)]
    public void EachPointOfTheCoverageCurveCoversAtLeastItsShare(int count)
    {
        var predictions = Enumerable.Range(0, count).Select(i =>
        {
            var p = new float[16];
            p[0] = 0.99f - i * 0.9f / count;
            p[1] = 1 - p[0];
            return new OutOfFold(i % 3 == 0 ? 1 : 0, p);
        }).ToList();
        var curve = Calibration.Curve(predictions);
        Assert.Equal(20, curve.Count);
        for (var s = 1; s <= 20; s++)
        {
            Assert.InRange(curve[s - 1].Coverage, s / 20.0 - 1e-9, s / 20.0 + 1.0 / count);
            var estimate = new CvEstimate(5, 3, 42, count, 0, 0, 0, 0, 0, 0, 0, [], curve, 1, 0.9);
            Assert.Equal(curve[s - 1].Accuracy, estimate.AccuracyAt(s / 20.0));
        }
    }

    [Fact]
    public void TheUncertaintySaysWhenTheOutOfFoldProbabilitiesRunLowOrHigh()
    {
        CvEstimate Estimate(double accuracy, double meanConfidence, int smallestClass) =>
            new(2, 3, 42, 32, accuracy, 0.1, 0.2, 0.3, 0.1, 2.0, 0.2, [], [], 1, 0.9, smallestClass, meanConfidence);

        var low = Estimate(0.40, 0.17, 2).Uncertainty;
        Assert.Contains("The model's probabilities run low", low);
        Assert.Matches(@"averaged 17 ?% confidence and were right 40 ?% of the time", low);
        Assert.Contains("run high", Estimate(0.50, 0.75, 3).Uncertainty);
        Assert.DoesNotContain("probabilities run", Estimate(0.60, 0.55, 8).Uncertainty);
        // A class with one document: the accuracy is the pessimistic one, the gap says nothing about the served model.
        Assert.DoesNotContain("probabilities run", Estimate(0.30, 0.06, 1).Uncertainty);
        // An estimate stored before the mean confidence was recorded.
        Assert.DoesNotContain("probabilities run", Estimate(0.40, 0, 2).Uncertainty);
    }
}
