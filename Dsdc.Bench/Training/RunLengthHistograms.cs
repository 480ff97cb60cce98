namespace Dsdc.Training;

/// <summary>
/// Run-length histograms of a binarised page (the layout descriptor of Gordo, Perronnin and Valveny's document retrieval
/// work): along four directions (horizontal, vertical and both diagonals), the lengths of the runs of ink and of paper,
/// quantised on a log2 scale, counted in every cell of a spatial pyramid (1x1, 2x2, 4x4 by default), each cell's
/// histogram L1-normalised, square-rooted (Hellinger), the whole vector L2-normalised. The runs say how big the type is,
/// how dense the lines, how wide the margins and gutters, whether rules and boxes cross the page.
/// </summary>
internal static class RunLengthHistograms
{
    public const int Bins = 9;
    private static readonly (int Dx, int Dy)[] Directions = [(1, 0), (0, 1), (1, 1), (-1, 1)];

    public static int Dimensions(IReadOnlyList<int> levels) => levels.Sum(l => l * l) * Directions.Length * 2 * Bins;

    /// <summary>Interleaved RGB bytes of a <paramref name="width"/> x <paramref name="height"/> page to its descriptor.</summary>
    public static float[] Compute(byte[] rgb, int width, int height, IReadOnlyList<int> levels)
    {
        var gray = new byte[width * height];
        for (var p = 0; p < gray.Length; p++) gray[p] = (byte)((rgb[3 * p] + rgb[3 * p + 1] + rgb[3 * p + 2]) / 3);
        var threshold = Otsu(gray);
        var ink = new bool[gray.Length];
        for (var p = 0; p < gray.Length; p++) ink[p] = gray[p] < threshold;

        const int perCell = 4 * 2 * Bins;
        var cellOffsets = new List<int>();
        var offset = 0;
        foreach (var l in levels)
        {
            cellOffsets.Add(offset);
            offset += l * l;
        }
        var counts = new double[offset * perCell];

        void Count(int x0, int y0, int x1, int y1, int length, bool isInk, int direction)
        {
            // The run belongs to the cell of its midpoint at each level.
            var mx = (x0 + x1) / 2;
            var my = (y0 + y1) / 2;
            var bin = Math.Min(Bins - 1, 31 - System.Numerics.BitOperations.LeadingZeroCount((uint)length));
            var slot = (direction * 2 + (isInk ? 0 : 1)) * Bins + bin;
            for (var li = 0; li < levels.Count; li++)
            {
                var l = levels[li];
                var cx = Math.Min(l - 1, mx * l / width);
                var cy = Math.Min(l - 1, my * l / height);
                counts[(cellOffsets[li] + cy * l + cx) * perCell + slot]++;
            }
        }

        void Trace(int sx, int sy, int dx, int dy, int direction)
        {
            int x = sx, y = sy, startX = sx, startY = sy, length = 0;
            var color = ink[sy * width + sx];
            while (x >= 0 && x < width && y < height)
            {
                var c = ink[y * width + x];
                if (c != color)
                {
                    Count(startX, startY, x - dx, y - dy, length, color, direction);
                    color = c;
                    startX = x;
                    startY = y;
                    length = 0;
                }
                length++;
                x += dx;
                y += dy;
            }
            Count(startX, startY, x - dx, y - dy, length, color, direction);
        }

        for (var d = 0; d < Directions.Length; d++)
        {
            var (dx, dy) = Directions[d];
            if (dy == 0)
                for (var y = 0; y < height; y++) Trace(0, y, dx, dy, d);
            else if (dx == 0)
                for (var x = 0; x < width; x++) Trace(x, 0, dx, dy, d);
            else
            {
                // Every diagonal starts on the top row or on the side it moves away from.
                for (var x = 0; x < width; x++) Trace(x, 0, dx, dy, d);
                var side = dx > 0 ? 0 : width - 1;
                for (var y = 1; y < height; y++) Trace(side, y, dx, dy, d);
            }
        }

        var result = new float[counts.Length];
        for (var cell = 0; cell < offset; cell++)
        {
            double sum = 0;
            for (var k = 0; k < perCell; k++) sum += counts[cell * perCell + k];
            if (sum <= 0) continue;
            for (var k = 0; k < perCell; k++) result[cell * perCell + k] = (float)Math.Sqrt(counts[cell * perCell + k] / sum);
        }
        var norm = MathF.Sqrt(result.Sum(v => v * v));
        if (norm > 0) for (var k = 0; k < result.Length; k++) result[k] /= norm;
        return result;
    }

    /// <summary>Otsu's threshold of a grey image: ink is below it.</summary>
    internal static int Otsu(byte[] gray)
    {
        var hist = new long[256];
        foreach (var g in gray) hist[g]++;
        double total = gray.Length, sumAll = 0;
        for (var i = 0; i < 256; i++) sumAll += i * (double)hist[i];
        double weightBelow = 0, sumBelow = 0, best = -1;
        var threshold = 128;
        for (var t = 0; t < 256; t++)
        {
            weightBelow += hist[t];
            if (weightBelow == 0) continue;
            var weightAbove = total - weightBelow;
            if (weightAbove == 0) break;
            sumBelow += t * (double)hist[t];
            var meanBelow = sumBelow / weightBelow;
            var meanAbove = (sumAll - sumBelow) / weightAbove;
            var between = weightBelow * weightAbove * (meanBelow - meanAbove) * (meanBelow - meanAbove);
            if (between > best)
            {
                best = between;
                threshold = t + 1;
            }
        }
        return threshold;
    }
}
