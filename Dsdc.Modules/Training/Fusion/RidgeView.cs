using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>
/// One view's linear classifier: a class-balanced ridge regression of the ±1 class indicators on the view's features
/// (scikit-learn's RidgeClassifier), solved in closed form in the dual (n x n), which is cheap for the few hundred to
/// few thousand labelled documents a self-hosted corpus has. The regularisation is chosen per fit from
/// <see cref="Alphas"/> (relative to the mean eigenvalue of the kernel) by exact leave-one-out error, which the same
/// eigendecomposition gives for free; those leave-one-out scores are what the stacking learns its view weights from,
/// so no inner cross-validation loop is needed. Deterministic: no random initialisation, no epochs.
/// </summary>
public sealed class RidgeView
{
    public static readonly double[] Alphas = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10];

    private RidgeView(float[] weights, float[] bias, int inputs, double alpha, double[][] looScores)
    {
        Weights = weights;
        Bias = bias;
        Inputs = inputs;
        Alpha = alpha;
        LooScores = looScores;
    }

    /// <summary>[16, inputs] row-major: scores = W x + b on the raw features (standardisation and centring folded in).</summary>
    public float[] Weights { get; }
    public float[] Bias { get; }
    public int Inputs { get; }

    /// <summary>The regularisation chosen by leave-one-out, relative to the kernel's mean eigenvalue.</summary>
    public double Alpha { get; }

    /// <summary>Each training document's scores from the model fitted without it (exact for the centred, weighted problem).</summary>
    public double[][] LooScores { get; }

    public double[] Scores(float[] x)
    {
        var s = new double[Bias.Length];
        for (var c = 0; c < s.Length; c++)
        {
            double sum = Bias[c];
            var row = c * Inputs;
            for (var j = 0; j < Inputs; j++) sum += (double)Weights[row + j] * x[j];
            s[c] = sum;
        }
        return s;
    }

    /// <param name="rows">one feature vector per document</param>
    /// <param name="labels">class index 0-15 per document</param>
    /// <param name="standardize">z-score each feature first (dense features of different scales); no for TF-IDF</param>
    public static RidgeView Fit(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, bool standardize, int classes = Shared.DocumentClasses.Count)
    {
        var n = rows.Count;
        if (n < 2) throw new ArgumentException("a ridge view needs at least two documents", nameof(rows));
        var d = rows[0].Length;
        using var scope = NewDisposeScope();
        var flat = new double[n * d];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < d; j++) flat[i * d + j] = rows[i][j];
        var x = tensor(flat, [n, d], dtype: ScalarType.Float64);

        // Standardise (z-score, unweighted) for dense views; constant features keep scale 1.
        Tensor mean, scale;
        if (standardize)
        {
            mean = x.mean([0L]);
            scale = x.std([0L], unbiased: false);
            scale = where(scale.lt(1e-6), ones_like(scale), scale);
            x = (x - mean) / scale;
        }
        else
        {
            mean = zeros(d, dtype: ScalarType.Float64);
            scale = ones(d, dtype: ScalarType.Float64);
        }

        // Class-balanced sample weights n / (classes present * count): a rare class counts as much as a common one.
        var counts = new int[classes];
        foreach (var l in labels) counts[l]++;
        var present = counts.Count(c => c > 0);
        var w = labels.Select(l => (double)n / (present * counts[l])).ToArray();
        var weights = tensor(w, dtype: ScalarType.Float64);
        var sw = weights.sqrt().unsqueeze(1);

        var targets = full(n, classes, -1.0, dtype: ScalarType.Float64);
        for (var i = 0; i < n; i++) targets[i, labels[i]] = tensor(1.0, dtype: ScalarType.Float64);
        var total = weights.sum();
        var xMean = (weights.unsqueeze(1) * x).sum([0L]) / total;
        var tMean = (weights.unsqueeze(1) * targets).sum([0L]) / total;
        var xs = sw * (x - xMean);
        var ts = sw * (targets - tMean);

        var kernel = xs.matmul(xs.t());
        var (eigenvalues, q) = linalg.eigh(kernel);
        eigenvalues = eigenvalues.clamp_min(0);
        var meanEigen = Math.Max(eigenvalues.mean().item<double>(), 1e-12);
        var qt = q.t().matmul(ts);
        var q2 = q * q;

        Tensor? bestLoo = null;
        var best = (Error: double.PositiveInfinity, Alpha: Alphas[0]);
        foreach (var alpha in Alphas)
        {
            var lambda = alpha * meanEigen;
            var shrink = eigenvalues / (eigenvalues + lambda);
            var fitted = q.matmul(shrink.unsqueeze(1) * qt);
            // The unpenalised intercept (the centring) fits the weighted mean exactly: its direction sw / |sw| adds
            // w_i / sum(w) to each leverage; without it the leave-one-out residuals of a near-interpolating fit vanish.
            var h = q2.matmul(shrink) + weights / total;
            var residual = (ts - fitted) / (1 - h).clamp_min(1e-9).unsqueeze(1);
            var error = residual.pow(2).sum().item<double>();
            if (error < best.Error)
            {
                best = (error, alpha);
                bestLoo = (ts - residual) / sw + tMean;
            }
        }

        var lambdaBest = best.Alpha * meanEigen;
        var dual = q.matmul((1 / (eigenvalues + lambdaBest)).unsqueeze(1) * qt);
        var primal = xs.t().matmul(dual);                       // [d, classes] on the standardised, centred features
        // scores = ((x - mean) / scale - xMean) W + tMean  =  x (W / scale) + (tMean - (mean / scale + xMean) W)
        var folded = primal / scale.unsqueeze(1);
        var bias = tMean - (mean / scale + xMean).unsqueeze(0).matmul(primal).squeeze(0);
        var weightsOut = folded.t().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
        var biasOut = bias.to_type(ScalarType.Float32).data<float>().ToArray();
        var loo = bestLoo!.data<double>().ToArray();
        var looRows = Enumerable.Range(0, n).Select(i => loo.AsSpan(i * classes, classes).ToArray()).ToArray();
        return new RidgeView(weightsOut, biasOut, d, best.Alpha, looRows);
    }

    /// <summary>For the ONNX export: one dense layer, no activation.</summary>
    public DenseLayer Layer(double factor = 1) =>
        new(Weights.Select(v => (float)(v * factor)).ToArray(), Bias.Select(v => (float)(v * factor)).ToArray(), Bias.Length, Inputs);
}
