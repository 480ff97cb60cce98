namespace Dsdc.Embedding;

internal static class Vectors
{
    /// <summary>Scales <paramref name="v"/> to unit length in place (a zero vector stays zero).</summary>
    public static float[] Normalize(float[] v)
    {
        double sum = 0;
        foreach (var x in v) sum += (double)x * x;
        if (sum <= 0) return v;
        var scale = (float)(1.0 / Math.Sqrt(sum));
        for (var i = 0; i < v.Length; i++) v[i] *= scale;
        return v;
    }

    /// <summary>Rows of a [rows, columns] tensor as separate unit-norm vectors.</summary>
    public static float[][] NormalizedRows(ReadOnlySpan<float> data, int rows, int columns)
    {
        var result = new float[rows][];
        for (var r = 0; r < rows; r++)
            result[r] = Normalize(data.Slice(r * columns, columns).ToArray());
        return result;
    }

    public static double Norm(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (var x in v) sum += (double)x * x;
        return Math.Sqrt(sum);
    }

    public static double CosineDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return 1 - dot / Math.Sqrt(na * nb);
    }
}
