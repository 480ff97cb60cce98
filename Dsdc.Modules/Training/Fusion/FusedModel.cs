using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>One view of a fused model: which features, and whether they are standardised before the ridge fit.</summary>
public sealed record FusedViewParameters(
    [property: JsonPropertyName("view")] string View,
    [property: JsonPropertyName("standardize")] bool Standardize);

/// <summary>
/// The fused model's recipe: a ridge classifier per view (<see cref="RidgeView"/>), then a stacking meta-learner that
/// weighs the views' scores, fitted on their leave-one-out scores (never on scores of documents a view trained on),
/// by minimising the log-loss of softmax(sum of weighted view scores). The weights also set the softmax's temperature,
/// so the probabilities come out calibrated on held-out documents.
/// </summary>
/// <param name="Stack">false: every view weighs 1 and the scores go through the softmax as they are (the uncalibrated
/// baseline the stacking is measured against).</param>
/// <param name="Calibrate">with stacking, also fit a <see cref="TopLabelCalibration"/> on the stacked leave-one-out predictions.</param>
public sealed record FusedParameters(
    [property: JsonPropertyName("views")] IReadOnlyList<FusedViewParameters> Views,
    [property: JsonPropertyName("stack")] bool Stack = true,
    [property: JsonPropertyName("calibrate")] bool Calibrate = true)
{
    public const string Approach = "fused-ridge";

    public string ToJson() => (Stack, Calibrate) switch
    {
        (false, _) => System.Text.Json.JsonSerializer.Serialize(new { approach = Approach, views = Views, stack = false }),
        (true, false) => System.Text.Json.JsonSerializer.Serialize(new { approach = Approach, views = Views, calibrate = false }),
        _ => System.Text.Json.JsonSerializer.Serialize(new { approach = Approach, views = Views }),
    };
}

/// <summary>A fitted view of a <see cref="FusedModel"/>: its feature state (TF-IDF vocabulary, cue lexicon), ridge and stacking weight.</summary>
public sealed record FusedView(string View, IViewFeatureState? Features, RidgeView Ridge, double Weight)
{
    public double[] Scores(PageInputs page) => Ridge.Scores(ViewFeatures.Raw(View, Features, page));
}

/// <summary>
/// A trained fused model: logits = sum over views of weight x ridge scores, softmax over the classes that had at least one
/// training document (a class never labelled is never predicted: probability 0), then the top-label calibration when
/// one was fitted.
/// </summary>
public sealed class FusedModel(IReadOnlyList<FusedView> views, bool[] knownClasses, TopLabelCalibration? calibration = null)
{
    public IReadOnlyList<FusedView> Views => views;
    public bool[] KnownClasses => knownClasses;
    public TopLabelCalibration? Calibration => calibration;

    public static FusedModel Train(FusedParameters parameters, IReadOnlyList<LabelledPage> train, CancellationToken ct = default)
    {
        if (train.Count < 2) throw new ArgumentException("a fused model needs at least two labelled documents", nameof(train));
        var labels = train.Select(t => t.Label).ToList();
        var known = new bool[Shared.DocumentClasses.Count];
        foreach (var l in labels) known[l] = true;
        if (known.Count(k => k) < 2) throw new ArgumentException("a fused model needs labelled documents of at least two classes", nameof(train));

        var fitted = new List<(string View, IViewFeatureState? Features, RidgeView Ridge)>();
        foreach (var v in parameters.Views)
        {
            ct.ThrowIfCancellationRequested();
            var features = ViewFeatures.Fit(v.View, train, RawTextTfidf.MinDocumentFrequencyFor(train.Count));
            var rows = train.Select(d => ViewFeatures.Raw(v.View, features, d.Inputs)).ToList();
            fitted.Add((v.View, features, RidgeView.Fit(rows, labels, v.Standardize)));
        }
        var looScores = fitted.Select(f => f.Ridge.LooScores).ToList();
        var weights = parameters.Stack ? Stacking.FitViewWeights(looScores, labels, known) : fitted.Select(_ => 1.0).ToArray();
        var calibration = parameters.Stack && parameters.Calibrate
            ? TopLabelCalibration.Fit(Enumerable.Range(0, train.Count).Select(i =>
            {
                // The stacked prediction of each training document from views that did not train on it.
                var logits = new double[known.Length];
                for (var v = 0; v < looScores.Count; v++)
                    for (var c = 0; c < logits.Length; c++) logits[c] += weights[v] * looScores[v][i][c];
                var p = Stacking.Softmax(logits, known);
                return (p, ClassificationMetrics.ArgMax(p) == labels[i]);
            }).ToList())
            : null;
        return new FusedModel(fitted.Select((f, i) => new FusedView(f.View, f.Features, f.Ridge, weights[i])).ToList(), known, calibration);
    }

    public double[] Logits(PageInputs page)
    {
        var logits = new double[knownClasses.Length];
        foreach (var v in views)
        {
            var s = v.Scores(page);
            for (var c = 0; c < logits.Length; c++) logits[c] += v.Weight * s[c];
        }
        return logits;
    }

    public float[] Predict(PageInputs page)
    {
        var p = Stacking.Softmax(Logits(page), knownClasses);
        return calibration?.Apply(p) ?? p;
    }

    public float[][] Predict(IReadOnlyList<PageInputs> pages) => pages.Select(Predict).ToArray();
}

/// <summary>The stacking meta-learner and the masked softmax shared by training and serving.</summary>
public static class Stacking
{
    /// <summary>
    /// The views' relative weights are fitted only when the median known class has at least this many labelled
    /// documents, so that a document left out still leaves two of its class to the views' leave-one-out scores.
    /// </summary>
    public const int MinDocumentsPerClassForViewWeights = 3;

    /// <summary>
    /// The stacking weights of a fused model. With few labels per class the leave-one-out scores say little about which
    /// view to trust (with two per class, each left-out document leaves one of its class behind), and fitted relative
    /// weights cost accuracy (2 per class: 36.0% against 40.3% with equal weights); there every view weighs the same and
    /// only their common scale, the softmax's temperature, is fitted on the same scores.
    /// </summary>
    public static double[] FitViewWeights(IReadOnlyList<double[][]> scores, IReadOnlyList<int> labels, bool[] known)
    {
        var perClass = labels.GroupBy(l => l).Select(g => g.Count()).Order().ToList();
        var median = perClass.Count % 2 == 1 ? perClass[perClass.Count / 2] : (perClass[perClass.Count / 2 - 1] + perClass[perClass.Count / 2]) / 2.0;
        if (scores.Count == 1 || median >= MinDocumentsPerClassForViewWeights) return FitWeights(scores, labels, known);
        var summed = scores[0].Select((_, i) => Enumerable.Range(0, known.Length).Select(c => scores.Sum(v => v[i][c])).ToArray()).ToArray();
        var temperature = FitWeights([summed], labels, known)[0];
        return scores.Select(_ => temperature).ToArray();
    }

    /// <summary>
    /// Probabilities of a model that softmaxes over every class (the MLPs, the multi-view models) restricted to the known
    /// classes: the unknown ones get 0 and the rest is scaled back to a sum of 1 (uniform when nothing is left), so a
    /// class nobody labelled is never predicted. Training, cross-validation and serving all go through it.
    /// </summary>
    public static float[] Restrict(float[] p, IReadOnlyList<bool> known)
    {
        double sum = 0;
        for (var c = 0; c < p.Length; c++)
            if (known[c]) sum += p[c];
        var count = known.Count(k => k);
        return p.Select((x, c) => !known[c] ? 0f : sum > 0 ? (float)(x / sum) : 1f / count).ToArray();
    }

    /// <summary>The known-class mask of a training side: the classes it has documents of.</summary>
    public static bool[] KnownOf(IEnumerable<int> labels)
    {
        var known = new bool[Shared.DocumentClasses.Count];
        foreach (var l in labels) known[l] = true;
        return known;
    }

    /// <summary>Softmax over the known classes (double precision); unknown classes get probability 0.</summary>
    public static float[] Softmax(IReadOnlyList<double> logits, IReadOnlyList<bool> known)
    {
        var max = double.NegativeInfinity;
        for (var c = 0; c < logits.Count; c++)
            if (known[c]) max = Math.Max(max, logits[c]);
        var p = new double[logits.Count];
        double sum = 0;
        for (var c = 0; c < logits.Count; c++)
            if (known[c]) sum += p[c] = Math.Exp(logits[c] - max);
        return p.Select(x => (float)(x / sum)).ToArray();
    }

    /// <summary>
    /// Non-negative weights w_v minimising the mean log-loss of softmax(sum_v w_v s_v) over the given (leave-one-out)
    /// scores; gradient descent on log w from w = 1, a few hundred steps (a handful of parameters, a convex-ish surface).
    /// </summary>
    public static double[] FitWeights(IReadOnlyList<double[][]> scores, IReadOnlyList<int> labels, bool[] known, int steps = 400)
    {
        var views = scores.Count;
        var theta = new double[views];
        // Adam on theta = log w.
        double[] m = new double[views], v = new double[views];
        const double lr = 0.05, b1 = 0.9, b2 = 0.999;
        var n = labels.Count;
        var classes = known.Length;
        var logits = new double[classes];
        for (var step = 1; step <= steps; step++)
        {
            var w = theta.Select(Math.Exp).ToArray();
            var grad = new double[views];
            for (var i = 0; i < n; i++)
            {
                Array.Clear(logits);
                for (var k = 0; k < views; k++)
                    for (var c = 0; c < classes; c++) logits[c] += w[k] * scores[k][i][c];
                var p = Softmax(logits, known);
                for (var k = 0; k < views; k++)
                {
                    double g = 0;
                    for (var c = 0; c < classes; c++)
                        if (known[c]) g += (p[c] - (c == labels[i] ? 1 : 0)) * scores[k][i][c];
                    grad[k] += g * w[k] / n;
                }
            }
            for (var k = 0; k < views; k++)
            {
                m[k] = b1 * m[k] + (1 - b1) * grad[k];
                v[k] = b2 * v[k] + (1 - b2) * grad[k] * grad[k];
                theta[k] -= lr * (m[k] / (1 - Math.Pow(b1, step))) / (Math.Sqrt(v[k] / (1 - Math.Pow(b2, step))) + 1e-9);
                theta[k] = Math.Clamp(theta[k], -12, 6);
            }
        }
        return theta.Select(Math.Exp).ToArray();
    }
}
