namespace Dsdc.Training;

/// <summary>
/// Per-feature mean and standard deviation of the training side: (x - mean) / std, so that weight decay treats every
/// feature alike. The export folds it into the first dense layer, so the ONNX graph takes the raw features.
/// </summary>
public sealed class Standardizer(float[] mean, float[] std)
{
    public static Standardizer Fit(IReadOnlyList<float[]> rows)
    {
        var dims = rows[0].Length;
        var mean = new float[dims];
        var std = new float[dims];
        for (var j = 0; j < dims; j++)
        {
            double sum = 0, squares = 0;
            foreach (var r in rows) sum += r[j];
            var m = sum / rows.Count;
            foreach (var r in rows) squares += (r[j] - m) * (r[j] - m);
            mean[j] = (float)m;
            // A constant feature gets std 1: it is centred away, and nothing is divided by zero.
            var s = Math.Sqrt(squares / rows.Count);
            std[j] = s < 1e-6 ? 1f : (float)s;
        }
        return new Standardizer(mean, std);
    }

    public float[] Apply(float[] x)
    {
        var y = new float[x.Length];
        for (var j = 0; j < x.Length; j++) y[j] = (x[j] - mean[j]) / std[j];
        return y;
    }

    /// <summary>W' = W / std and b' = b - W' mean: the same outputs from raw inputs.</summary>
    public DenseLayer Fold(DenseLayer first)
    {
        var w = new float[first.Weight.Length];
        var b = (float[])first.Bias.Clone();
        for (var o = 0; o < first.Outputs; o++)
        {
            double shift = 0;
            for (var i = 0; i < first.Inputs; i++)
            {
                var k = o * first.Inputs + i;
                w[k] = first.Weight[k] / std[i];
                shift += (double)w[k] * mean[i];
            }
            b[o] = (float)(b[o] - shift);
        }
        return first with { Weight = w, Bias = b };
    }
}
