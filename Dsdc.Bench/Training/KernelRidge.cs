using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>
/// The class-balanced ridge classifier of <see cref="RidgeView"/> with a Gaussian (RBF) kernel on the standardised features
/// instead of the linear one: the same weighted centring (in the kernel's feature space), the same regularisation grid and
/// exact leave-one-out choice, the kernel's width chosen with it (relative to the median squared distance between
/// training documents).
/// </summary>
internal sealed class KernelRidge
{
    public static readonly double[] WidthFactors = [0.25, 0.5, 1, 2, 4];

    private readonly double[][] train;
    private readonly double[] mean, scale, dualWeights, columnMeans;
    private readonly double[,] dual;
    private readonly double gamma, grandMean;
    private readonly double[] tMean;

    private KernelRidge(double[][] train, double[] mean, double[] scale, double gamma, double[] dualWeights, double[] columnMeans,
        double grandMean, double[,] dual, double[] tMean, double[][] loo)
    {
        this.train = train;
        this.mean = mean;
        this.scale = scale;
        this.gamma = gamma;
        this.dualWeights = dualWeights;
        this.columnMeans = columnMeans;
        this.grandMean = grandMean;
        this.dual = dual;
        this.tMean = tMean;
        LooScores = loo;
    }

    public double[][] LooScores { get; }

    private double[] Standardize(float[] x)
    {
        var z = new double[x.Length];
        for (var j = 0; j < x.Length; j++) z[j] = (x[j] - mean[j]) / scale[j];
        return z;
    }

    private static double[,] SquaredDistances(double[][] a, double[][] b)
    {
        var n = a.Length;
        var m = b.Length;
        var d = a[0].Length;
        var fa = a.SelectMany(r => r).ToArray();
        var fb = b.SelectMany(r => r).ToArray();
        double[] g;
        using (NewDisposeScope())
            g = tensor(fa, [n, d], dtype: ScalarType.Float64).matmul(tensor(fb, [m, d], dtype: ScalarType.Float64).t()).contiguous().data<double>().ToArray();
        var na = a.Select(r => r.Sum(x => x * x)).ToArray();
        var nb = b.Select(r => r.Sum(x => x * x)).ToArray();
        var s = new double[n, m];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < m; j++) s[i, j] = Math.Max(na[i] + nb[j] - 2 * g[i * m + j], 0);
        return s;
    }

    public double[] Scores(float[] x)
    {
        var z = Standardize(x);
        var dist = SquaredDistances([z], train);
        var n = train.Length;
        var k = new double[n];
        double wk = 0;
        for (var i = 0; i < n; i++)
        {
            k[i] = Math.Exp(-gamma * dist[0, i]);
            wk += dualWeights[i] * k[i];
        }
        var classes = tMean.Length;
        var s = (double[])tMean.Clone();
        for (var i = 0; i < n; i++)
        {
            // centred kernel between x and training document i
            var kc = k[i] - wk - columnMeans[i] + grandMean;
            for (var c = 0; c < classes; c++) s[c] += kc * dual[i, c];
        }
        return s;
    }

    public static KernelRidge Fit(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, int classes = Shared.DocumentClasses.Count)
    {
        var n = rows.Count;
        var d = rows[0].Length;
        var mean = new double[d];
        var scale = new double[d];
        foreach (var row in rows)
            for (var j = 0; j < d; j++) mean[j] += row[j];
        for (var j = 0; j < d; j++) mean[j] /= n;
        foreach (var row in rows)
            for (var j = 0; j < d; j++) scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
        for (var j = 0; j < d; j++)
        {
            var sd = Math.Sqrt(scale[j] / n);
            scale[j] = sd < 1e-6 ? 1 : sd;
        }
        var z = rows.Select(r => Enumerable.Range(0, d).Select(j => (r[j] - mean[j]) / scale[j]).ToArray()).ToArray();
        var dist = SquaredDistances(z, z);
        var all = new List<double>();
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++) all.Add(dist[i, j]);
        all.Sort();
        var median = Math.Max(all.Count > 0 ? all[all.Count / 2] : 1, 1e-12);

        var counts = new int[classes];
        foreach (var l in labels) counts[l]++;
        var present = counts.Count(c => c > 0);
        var w = labels.Select(l => (double)n / (present * counts[l])).ToArray();
        var total = w.Sum();
        var wn = w.Select(x => x / total).ToArray();
        var sw = w.Select(Math.Sqrt).ToArray();
        var tMean = new double[classes];
        for (var i = 0; i < n; i++)
            for (var c = 0; c < classes; c++) tMean[c] += wn[i] * (c == labels[i] ? 1 : -1);
        var ts = new double[n * classes];
        for (var i = 0; i < n; i++)
            for (var c = 0; c < classes; c++) ts[i * classes + c] = sw[i] * ((c == labels[i] ? 1 : -1) - tMean[c]);

        (double Error, double Factor, double Alpha, double[][] Loo, double[] Dual, double[] Col, double Grand) best =
            (double.PositiveInfinity, 0, 0, [], [], [], 0);
        foreach (var factor in WidthFactors)
        {
            var gamma = 1 / (factor * median);
            var k = new double[n, n];
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++) k[i, j] = Math.Exp(-gamma * dist[i, j]);
            // weighted centring in the kernel's feature space: kc = K - 1 m^T - m 1^T + g, with m_i = sum_j wn_j K_ij
            var col = new double[n];
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++) col[i] += wn[j] * k[i, j];
            double grand = 0;
            for (var i = 0; i < n; i++) grand += wn[i] * col[i];
            var ks = new double[n * n];
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++) ks[i * n + j] = sw[i] * sw[j] * (k[i, j] - col[i] - col[j] + grand);
            var (alpha, error, loo, dual) = RidgeView.SolveDual(ks, ts, sw, wn, tMean);
            if (error < best.Error) best = (error, factor, alpha, loo, dual, col, grand);
        }

        // score(x) = sum_i sw_i kc(x, x_i) dual_i + tMean
        var dualS = new double[n, classes];
        for (var i = 0; i < n; i++)
            for (var c = 0; c < classes; c++) dualS[i, c] = best.Dual[i * classes + c] * sw[i];
        return new KernelRidge(z, mean, scale, 1 / (best.Factor * median), wn, best.Col, best.Grand, dualS, tMean, best.Loo)
        { Chosen = (best.Factor, best.Alpha) };
    }

    public (double WidthFactor, double Alpha) Chosen { get; private init; }
}
