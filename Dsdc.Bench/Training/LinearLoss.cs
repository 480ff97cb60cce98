using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>
/// A view's linear classifier trained with another loss than the ridge's squared error: multinomial logistic regression
/// (<see cref="Loss.Logistic"/>) or one-vs-rest squared hinge, a linear SVM (<see cref="Loss.SquaredHinge"/>), both
/// class-balanced and L2-penalised, the intercept free. The problem is solved in the eigenbasis of the training
/// documents' linear kernel (at most n coordinates however many features the view has: the representer theorem), by
/// L-BFGS. The penalty is chosen from <see cref="Alphas"/> (relative to the mean squared norm of a document, as the
/// ridge's) by an inner stratified k-fold, whose out-of-fold scores are what the stacking learns the view's weight from:
/// unlike the ridge there is no closed-form leave-one-out.
/// </summary>
internal sealed class LinearLoss
{
    public enum Loss { Logistic, SquaredHinge }

    public static readonly double[] Alphas = [3e-3, 3e-2, 0.3, 3];

    private readonly double[][] train;
    private readonly Standardizer? standardizer;
    private readonly double[,] projection; // train count x components: z = (X x) projection
    private readonly double[] weights; // components x classes
    private readonly double[] bias;
    private readonly int classes;

    private LinearLoss(double[][] train, Standardizer? standardizer, double[,] projection, double[] weights, double[] bias, int classes)
    {
        (this.train, this.standardizer, this.projection, this.weights, this.bias, this.classes) = (train, standardizer, projection, weights, bias, classes);
    }

    public double Alpha { get; private init; }

    public double[] Scores(float[] x)
    {
        var z = Standardize(x, standardizer);
        var k = train.Select(t => Dot(t, z)).ToArray();
        var r = projection.GetLength(1);
        var coords = new double[r];
        for (var i = 0; i < k.Length; i++)
            for (var j = 0; j < r; j++) coords[j] += k[i] * projection[i, j];
        var s = (double[])bias.Clone();
        for (var j = 0; j < r; j++)
            for (var c = 0; c < classes; c++) s[c] += coords[j] * weights[j * classes + c];
        return s;
    }

    /// <summary>The fit with the penalty chosen by an inner k-fold, and the out-of-fold scores at that penalty.</summary>
    public static (double[][] Oof, LinearLoss Model) FitChosen(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, bool standardize, Loss loss,
        int innerFolds = 5, int classes = Shared.DocumentClasses.Count)
    {
        var n = rows.Count;
        var k = Math.Max(2, Math.Min(innerFolds, labels.GroupBy(l => l).Min(g => g.Count())));
        var folds = RepeatedCrossValidation.Folds(labels, k, 1, 17)[0];
        (double Score, double Alpha, double[][] Oof)? best = null;
        foreach (var alpha in Alphas)
        {
            var oof = new double[n][];
            for (var f = 0; f < k; f++)
            {
                var inside = Enumerable.Range(0, n).Where(i => folds[i] != f).ToList();
                var m = Fit(inside.Select(i => rows[i]).ToList(), inside.Select(i => labels[i]).ToList(), standardize, loss, alpha, classes);
                for (var i = 0; i < n; i++)
                    if (folds[i] == f) oof[i] = m.Scores(rows[i]);
            }
            // Logistic: out-of-fold log-loss; hinge: out-of-fold errors (its scores are no probabilities). Ties: the stronger penalty.
            double score = 0;
            for (var i = 0; i < n; i++)
                score += loss == Loss.Logistic ? -LogSoftmax(oof[i])[labels[i]] : (ArgMax(oof[i]) == labels[i] ? 0 : 1);
            if (best is null || score < best.Value.Score - 1e-9 || (Math.Abs(score - best.Value.Score) <= 1e-9 && alpha > best.Value.Alpha))
                best = (score, alpha, oof);
        }
        var model = Fit(rows, labels, standardize, loss, best!.Value.Alpha, classes);
        return (best.Value.Oof, model);
    }

    public static LinearLoss Fit(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, bool standardize, Loss loss, double alpha,
        int classes = Shared.DocumentClasses.Count)
    {
        var n = rows.Count;
        var d = rows[0].Length;
        var standardizer = standardize ? Standardizer.Fit(rows) : null;
        var xs = rows.Select(r => Standardize(r, standardizer)).ToArray();

        // Eigenbasis of the linear kernel: Z = Q sqrt(E) holds the documents' coordinates, z(x) = (X x) Q E^-1/2.
        double[] eigenvalues, q;
        using (NewDisposeScope())
        {
            var x = tensor(xs.SelectMany(r => r).ToArray(), [n, d], dtype: ScalarType.Float64);
            var (values, vectors) = linalg.eigh(x.matmul(x.t()));
            eigenvalues = values.data<double>().ToArray();
            q = vectors.contiguous().data<double>().ToArray();
        }
        var top = eigenvalues.Max();
        var kept = Enumerable.Range(0, n).Where(j => eigenvalues[j] > 1e-9 * top).ToArray();
        var r = kept.Length;
        var projection = new double[n, r];
        var z = new double[n * r];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < r; j++)
            {
                var e = eigenvalues[kept[j]];
                projection[i, j] = q[i * n + kept[j]] / Math.Sqrt(e);
                z[i * r + j] = q[i * n + kept[j]] * Math.Sqrt(e);
            }

        // Class-balanced weights, normalised to sum 1; the penalty relative to the mean squared norm of a document.
        var counts = new int[classes];
        foreach (var l in labels) counts[l]++;
        var present = counts.Count(c => c > 0);
        var w = labels.Select(l => 1.0 / (present * counts[l])).ToArray();
        var lambda = alpha * eigenvalues.Where(e => e > 0).Sum() / n / n;

        var p = r * classes + classes;
        double Objective(double[] theta, double[] grad)
        {
            Array.Clear(grad);
            double value = 0;
            var s = new double[classes];
            var g = new double[classes];
            for (var i = 0; i < n; i++)
            {
                for (var c = 0; c < classes; c++) s[c] = theta[r * classes + c];
                for (var j = 0; j < r; j++)
                {
                    var zij = z[i * r + j];
                    if (zij == 0) continue;
                    for (var c = 0; c < classes; c++) s[c] += zij * theta[j * classes + c];
                }
                if (loss == Loss.Logistic)
                {
                    var ls = LogSoftmax(s);
                    value -= w[i] * ls[labels[i]];
                    for (var c = 0; c < classes; c++) g[c] = w[i] * (Math.Exp(ls[c]) - (c == labels[i] ? 1 : 0));
                }
                else
                    for (var c = 0; c < classes; c++)
                    {
                        var t = c == labels[i] ? 1.0 : -1.0;
                        var margin = 1 - t * s[c];
                        if (margin > 0)
                        {
                            value += w[i] * margin * margin;
                            g[c] = -2 * w[i] * t * margin;
                        }
                        else g[c] = 0;
                    }
                for (var c = 0; c < classes; c++) grad[r * classes + c] += g[c];
                for (var j = 0; j < r; j++)
                {
                    var zij = z[i * r + j];
                    for (var c = 0; c < classes; c++) grad[j * classes + c] += zij * g[c];
                }
            }
            for (var j = 0; j < r * classes; j++)
            {
                value += 0.5 * lambda * theta[j] * theta[j];
                grad[j] += lambda * theta[j];
            }
            return value;
        }
        var solution = Lbfgs(Objective, new double[p]);
        return new LinearLoss(xs, standardizer, projection, solution[..(r * classes)], solution[(r * classes)..], classes) { Alpha = alpha };
    }

    /// <summary>L-BFGS (10 pairs) with a backtracking Armijo line search; stops at a small gradient or relative change.</summary>
    private static double[] Lbfgs(Func<double[], double[], double> f, double[] x0, int maxIterations = 500, int memory = 10)
    {
        var p = x0.Length;
        var x = (double[])x0.Clone();
        var g = new double[p];
        var fx = f(x, g);
        var ss = new List<double[]>();
        var ys = new List<double[]>();
        var gNew = new double[p];
        for (var iter = 0; iter < maxIterations; iter++)
        {
            var gnorm = Math.Sqrt(g.Sum(v => v * v));
            if (gnorm < 1e-7) break;
            // Two-loop recursion.
            var dir = g.Select(v => -v).ToArray();
            var alphas = new double[ss.Count];
            for (var k = ss.Count - 1; k >= 0; k--)
            {
                alphas[k] = Dot(ss[k], dir) / Dot(ys[k], ss[k]);
                for (var j = 0; j < p; j++) dir[j] -= alphas[k] * ys[k][j];
            }
            if (ss.Count > 0)
            {
                var gamma = Dot(ss[^1], ys[^1]) / Dot(ys[^1], ys[^1]);
                for (var j = 0; j < p; j++) dir[j] *= gamma;
            }
            else
                for (var j = 0; j < p; j++) dir[j] /= gnorm;
            for (var k = 0; k < ss.Count; k++)
            {
                var beta = Dot(ys[k], dir) / Dot(ys[k], ss[k]);
                for (var j = 0; j < p; j++) dir[j] += (alphas[k] - beta) * ss[k][j];
            }
            var slope = Dot(g, dir);
            if (slope >= 0)
            {
                dir = g.Select(v => -v).ToArray();
                slope = -Dot(g, g);
                ss.Clear();
                ys.Clear();
            }
            var step = 1.0;
            var xNew = new double[p];
            double fNew;
            while (true)
            {
                for (var j = 0; j < p; j++) xNew[j] = x[j] + step * dir[j];
                fNew = f(xNew, gNew);
                if (fNew <= fx + 1e-4 * step * slope || step < 1e-12) break;
                step *= 0.5;
            }
            var sv = new double[p];
            var yv = new double[p];
            for (var j = 0; j < p; j++)
            {
                sv[j] = xNew[j] - x[j];
                yv[j] = gNew[j] - g[j];
            }
            if (Dot(sv, yv) > 1e-12)
            {
                ss.Add(sv);
                ys.Add(yv);
                if (ss.Count > memory)
                {
                    ss.RemoveAt(0);
                    ys.RemoveAt(0);
                }
            }
            var change = fx - fNew;
            x = xNew;
            (g, gNew) = (gNew, g);
            fx = fNew;
            if (change <= 1e-10 * Math.Max(1, Math.Abs(fx))) break;
        }
        return x;
    }

    private static double[] Standardize(float[] x, Standardizer? standardizer) =>
        Array.ConvertAll(standardizer?.Apply(x) ?? x, v => (double)v);

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (var j = 0; j < a.Length; j++) s += a[j] * b[j];
        return s;
    }

    private static double[] LogSoftmax(double[] s)
    {
        var max = s.Max();
        var sum = s.Sum(v => Math.Exp(v - max));
        var log = max + Math.Log(sum);
        return s.Select(v => v - log).ToArray();
    }

    private static int ArgMax(double[] s)
    {
        var best = 0;
        for (var c = 1; c < s.Length; c++)
            if (s[c] > s[best]) best = c;
        return best;
    }
}
