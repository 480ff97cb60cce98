namespace Dsdc.Embedding;

/// <summary>
/// Separable bicubic resampling (Keys kernel, a = -0.5) whose support widens when shrinking, so a page scaled down to
/// 224 pixels is averaged rather than aliased: the behaviour of the PIL resize CLIP's preprocessing was trained with.
/// </summary>
internal static class BicubicResampler
{
    public static RgbImage Resize(RgbImage source, int width, int height)
    {
        if (source.Width == width && source.Height == height) return source;
        var horizontal = Pass(Array.ConvertAll(source.Pixels, x => (float)x), source.Width, source.Height, width, horizontalPass: true);
        var vertical = Pass(horizontal, width, source.Height, height, horizontalPass: false);
        var bytes = new byte[vertical.Length];
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)Math.Clamp(MathF.Round(vertical[i]), 0, 255);
        return new RgbImage(width, height, bytes);
    }

    /// <summary>Resizes the shorter side to <paramref name="size"/> (aspect kept), then cuts the centred square.</summary>
    public static RgbImage ResizeShorterSideAndCrop(RgbImage source, int size)
    {
        var (w, h) = source.Width <= source.Height
            ? (size, (int)((long)size * source.Height / source.Width))
            : ((int)((long)size * source.Width / source.Height), size);
        var resized = Resize(source, w, h);
        if (w == size && h == size) return resized;
        int top = (h - size) / 2, left = (w - size) / 2;
        var crop = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
            Array.Copy(resized.Pixels, ((top + y) * w + left) * 3, crop, y * size * 3, size * 3);
        return new RgbImage(size, size, crop);
    }

    private static float[] Pass(float[] source, int inWidth, int inHeight, int outLength, bool horizontalPass)
    {
        var inLength = horizontalPass ? inWidth : inHeight;
        var (starts, weights, taps) = Coefficients(inLength, outLength);
        var outWidth = horizontalPass ? outLength : inWidth;
        var outHeight = horizontalPass ? inHeight : outLength;
        var output = new float[outWidth * outHeight * 3];
        for (var y = 0; y < outHeight; y++)
        for (var x = 0; x < outWidth; x++)
        {
            var o = horizontalPass ? x : y;
            float r = 0, g = 0, bl = 0;
            for (var k = 0; k < taps; k++)
            {
                var w = weights[o * taps + k];
                if (w == 0) continue;
                var i = starts[o] + k;
                var p = horizontalPass ? (y * inWidth + i) * 3 : (i * inWidth + x) * 3;
                r += w * source[p];
                g += w * source[p + 1];
                bl += w * source[p + 2];
            }
            var q = (y * outWidth + x) * 3;
            output[q] = r;
            output[q + 1] = g;
            output[q + 2] = bl;
        }
        return output;
    }

    private static (int[] Starts, float[] Weights, int Taps) Coefficients(int inLength, int outLength)
    {
        var scale = (double)inLength / outLength;
        var filterScale = Math.Max(scale, 1.0);
        var support = 2.0 * filterScale;
        var taps = (int)Math.Ceiling(support) * 2 + 1;
        var starts = new int[outLength];
        var weights = new float[outLength * taps];
        for (var o = 0; o < outLength; o++)
        {
            var centre = (o + 0.5) * scale;
            var start = Math.Max(0, (int)(centre - support + 0.5));
            var end = Math.Min(inLength, (int)(centre + support + 0.5));
            starts[o] = start;
            double total = 0;
            for (var i = start; i < end && i - start < taps; i++)
                total += weights[o * taps + i - start] = (float)Cubic((i - centre + 0.5) / filterScale);
            if (total == 0) continue;
            for (var k = 0; k < taps; k++) weights[o * taps + k] = (float)(weights[o * taps + k] / total);
        }
        return (starts, weights, taps);
    }

    private static double Cubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }
}
