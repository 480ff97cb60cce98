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
    /// <remarks>
    /// Only the matrix products and the eigendecomposition run in LibTorch; every element-wise step is plain C#. TorchSharp
    /// turns a number in tensor arithmetic (<c>t + 1.5</c>, <c>clamp_min(0)</c>, even the implicit <c>alpha = 1</c> of
    /// <c>t1 + t2</c>) into a finalizable <c>Scalar</c> that nothing keeps alive during the native call, so the garbage
    /// collector can free it mid-call ("Unknown scalar type"); the operations used here take no Scalar.
    /// </remarks>
    /// <param name="alphas">the regularisations to choose from (default <see cref="Alphas"/>); one fixes it</param>
    public static RidgeView Fit(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, bool standardize, int classes = Shared.DocumentClasses.Count,
        IReadOnlyList<double>? alphas = null)
    {
        var n = rows.Count;
        if (n < 2) throw new ArgumentException("a ridge view needs at least two documents", nameof(rows));
        var d = rows[0].Length;

        // Standardise (z-score, unweighted) for dense views; constant features keep scale 1.
        var mean = new double[d];
        var scale = new double[d];
        Array.Fill(scale, 1.0);
        if (standardize)
        {
            foreach (var row in rows)
                for (var j = 0; j < d; j++) mean[j] += row[j];
            for (var j = 0; j < d; j++) mean[j] /= n;
            var variance = new double[d];
            foreach (var row in rows)
                for (var j = 0; j < d; j++)
                {
                    var dev = row[j] - mean[j];
                    variance[j] += dev * dev;
                }
            for (var j = 0; j < d; j++)
            {
                var sd = Math.Sqrt(variance[j] / n);
                scale[j] = sd < 1e-6 ? 1 : sd;
            }
        }

        // Class-balanced sample weights n / (classes present * count): a rare class counts as much as a common one.
        var counts = new int[classes];
        foreach (var l in labels) counts[l]++;
        var present = counts.Count(c => c > 0);
        var w = labels.Select(l => (double)n / (present * counts[l])).ToArray();
        var total = w.Sum();

        // Weighted means of the standardised features and of the ±1 targets; the problem is centred on them and each row
        // scaled by sqrt(w_i).
        var xMean = new double[d];
        var tMean = new double[classes];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < d; j++) xMean[j] += w[i] * ((rows[i][j] - mean[j]) / scale[j]);
            for (var c = 0; c < classes; c++) tMean[c] += w[i] * (c == labels[i] ? 1 : -1);
        }
        for (var j = 0; j < d; j++) xMean[j] /= total;
        for (var c = 0; c < classes; c++) tMean[c] /= total;
        var sw = w.Select(Math.Sqrt).ToArray();
        var xs = new double[n * d];
        var ts = new double[n * classes];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < d; j++) xs[i * d + j] = sw[i] * ((rows[i][j] - mean[j]) / scale[j] - xMean[j]);
            for (var c = 0; c < classes; c++) ts[i * classes + c] = sw[i] * ((c == labels[i] ? 1 : -1) - tMean[c]);
        }

        double[] gram;
        using (NewDisposeScope())
        {
            var xsT = tensor(xs, [n, d], dtype: ScalarType.Float64);
            gram = xsT.matmul(xsT.t()).contiguous().data<double>().ToArray();
        }
        var (alphaBest, _, bestLoo, dual) = SolveDual(gram, ts, sw, w.Select(x => x / total).ToArray(), tMean, alphas);

        double[] primal;
        using (NewDisposeScope())
            primal = tensor(xs, [n, d], dtype: ScalarType.Float64).t().matmul(tensor(dual, [n, classes], dtype: ScalarType.Float64))
                .contiguous().data<double>().ToArray();

        // scores = ((x - mean) / scale - xMean) W + tMean  =  x (W / scale) + (tMean - (mean / scale + xMean) W)
        var weightsOut = new float[classes * d];
        var biasOut = new float[classes];
        for (var c = 0; c < classes; c++)
        {
            var bias = tMean[c];
            for (var j = 0; j < d; j++)
            {
                var v = primal[j * classes + c];
                weightsOut[c * d + j] = (float)(v / scale[j]);
                bias -= (mean[j] / scale[j] + xMean[j]) * v;
            }
            biasOut[c] = (float)bias;
        }
        return new RidgeView(weightsOut, biasOut, d, alphaBest, bestLoo);
    }

    /// <summary>
    /// The dual ridge solve shared by every kernel: <paramref name="gram"/> is the n x n kernel of the centred documents
    /// with each row and column scaled by sqrt(w_i), <paramref name="targets"/> the centred, scaled ±1 indicators.
    /// For each of <see cref="Alphas"/> (relative to the kernel's mean eigenvalue): fitted = Q diag(shrink) Q^T T, the
    /// leverages h = sum_k Q_ik^2 shrink_k (+ the intercept's w_i / sum w), and the exact leave-one-out residuals
    /// (T - fitted) / (1 - h); the alpha with the least leave-one-out squared error wins.
    /// </summary>
    /// <returns>the chosen alpha, its leave-one-out error, each document's leave-one-out scores (n x classes, on the
    /// ±1 scale) and the dual coefficients Q diag(1 / (e + lambda)) Q^T T (n x classes, row-major).</returns>
    internal static (double Alpha, double Error, double[][] Loo, double[] Dual) SolveDual(
        double[] gram, double[] targets, double[] sw, double[] interceptLeverage, double[] tMean, IReadOnlyList<double>? alphas = null)
    {
        var n = sw.Length;
        var classes = tMean.Length;
        double[] eigenvalues, q, qt;
        using (NewDisposeScope())
        {
            var (values, vectors) = linalg.eigh(tensor(gram, [n, n], dtype: ScalarType.Float64));
            eigenvalues = values.data<double>().ToArray();
            q = vectors.contiguous().data<double>().ToArray();
            qt = vectors.t().matmul(tensor(targets, [n, classes], dtype: ScalarType.Float64)).contiguous().data<double>().ToArray();
        }
        for (var k = 0; k < n; k++) eigenvalues[k] = Math.Max(eigenvalues[k], 0);
        var meanEigen = Math.Max(eigenvalues.Average(), 1e-12);

        double[]? bestLoo = null;
        alphas ??= Alphas;
        if (alphas.Count == 0) throw new ArgumentException("at least one regularisation to choose from", nameof(alphas));
        var best = (Error: double.PositiveInfinity, Alpha: alphas[0]);
        var fitted = new double[classes];
        foreach (var alpha in alphas)
        {
            var lambda = alpha * meanEigen;
            var shrink = eigenvalues.Select(e => e / (e + lambda)).ToArray();
            var loo = new double[n * classes];
            double error = 0;
            for (var i = 0; i < n; i++)
            {
                Array.Clear(fitted);
                // The unpenalised intercept (the centring) fits the weighted mean exactly: its direction sw / |sw| adds
                // w_i / sum(w) to each leverage; without it the leave-one-out residuals of a near-interpolating fit vanish.
                var h = interceptLeverage[i];
                for (var k = 0; k < n; k++)
                {
                    var qs = q[i * n + k] * shrink[k];
                    h += q[i * n + k] * qs;
                    for (var c = 0; c < classes; c++) fitted[c] += qs * qt[k * classes + c];
                }
                var denominator = Math.Max(1 - h, 1e-9);
                for (var c = 0; c < classes; c++)
                {
                    var residual = (targets[i * classes + c] - fitted[c]) / denominator;
                    error += residual * residual;
                    loo[i * classes + c] = (targets[i * classes + c] - residual) / sw[i] + tMean[c];
                }
            }
            if (error < best.Error)
            {
                best = (error, alpha);
                bestLoo = loo;
            }
        }

        var lambdaBest = best.Alpha * meanEigen;
        var dual = new double[n * classes];
        for (var i = 0; i < n; i++)
            for (var k = 0; k < n; k++)
            {
                var f = q[i * n + k] / (eigenvalues[k] + lambdaBest);
                for (var c = 0; c < classes; c++) dual[i * classes + c] += f * qt[k * classes + c];
            }
        var looRows = Enumerable.Range(0, n).Select(i => bestLoo!.AsSpan(i * classes, classes).ToArray()).ToArray();
        return (best.Alpha, best.Error, looRows, dual);
    }

    /// <summary>For the ONNX export: one dense layer, no activation.</summary>
    public DenseLayer Layer(double factor = 1) =>
        new(Weights.Select(v => (float)(v * factor)).ToArray(), Bias.Select(v => (float)(v * factor)).ToArray(), Bias.Length, Inputs);
}
