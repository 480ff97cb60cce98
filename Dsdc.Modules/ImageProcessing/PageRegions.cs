namespace Dsdc.ImageProcessing;

/// <summary>
/// Regions of a page that an image model looks at separately: the whole page, the header and footer bands, the middle,
/// the halves and the quadrants. Where a document class shows itself (a letterhead, a memo's TO/FROM block, a form's
/// grid, a footer of page numbers) is often a small part of the page that one squashed 224x224 view blurs away.
/// The page is first scaled to <see cref="BaseWidth"/> x <see cref="BaseHeight"/> (a portrait page's usual aspect), then
/// each region is cut out and averaged down (box filter) to 224x224.
/// </summary>
public static class PageRegions
{
    public const int BaseWidth = 448, BaseHeight = 576, Size = 224;
    public const string Version = "regions11-448x576-box";

    /// <summary>Each region as fractions of the page: left, top, right, bottom.</summary>
    public static readonly IReadOnlyList<(string Name, double X0, double Y0, double X1, double Y1)> All =
    [
        ("page", 0, 0, 1, 1),
        ("top-quarter", 0, 0, 1, 0.25),
        ("top-half", 0, 0, 1, 0.5),
        ("middle", 0, 0.25, 1, 0.75),
        ("bottom-half", 0, 0.5, 1, 1),
        ("bottom-quarter", 0, 0.75, 1, 1),
        ("left-half", 0, 0, 0.5, 1),
        ("right-half", 0.5, 0, 1, 1),
        ("top-left", 0, 0, 0.5, 0.5),
        ("top-right", 0.5, 0, 1, 0.5),
        ("bottom-left", 0, 0.5, 0.5, 1),
    ];

    /// <summary>Every region (<see cref="All"/>): the default set.</summary>
    public static readonly RegionSet AllRegions = new("all", Version, All);

    /// <summary>
    /// The four horizontal bands (top quarter, top half, bottom half, bottom quarter): 4/11 of the cost of
    /// <see cref="AllRegions"/>, for about half a point of accuracy (docs/benchmarks.md, "Fewer regions").
    /// </summary>
    public static readonly RegionSet Bands = new("bands", "regions4-bands-448x576-box",
        All.Where(r => r.Name is "top-quarter" or "top-half" or "bottom-half" or "bottom-quarter").ToList());

    public static readonly IReadOnlyList<RegionSet> Sets = [AllRegions, Bands];

    /// <summary>The set called <paramref name="name"/> (<c>all</c> or <c>bands</c>), or null.</summary>
    public static RegionSet? Named(string? name) => Sets.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Cuts every region of <paramref name="set"/> from the page's interleaved RGB bytes at the base size.</summary>
    public static IReadOnlyList<byte[]> Cut(byte[] rgb, RegionSet set)
    {
        if (rgb.Length != BaseWidth * BaseHeight * 3)
            throw new ArgumentException($"expected {BaseWidth}x{BaseHeight} RGB bytes, got {rgb.Length}", nameof(rgb));
        return set.Regions.Select(r => Resize(rgb, BaseWidth, (int)Math.Round(r.X0 * BaseWidth), (int)Math.Round(r.Y0 * BaseHeight),
            (int)Math.Round(r.X1 * BaseWidth), (int)Math.Round(r.Y1 * BaseHeight), Size, Size)).ToList();
    }

    /// <summary>The rectangle [x0,x1) x [y0,y1) of an RGB image resampled to <paramref name="width"/> x <paramref name="height"/>
    /// by area averaging (each target pixel is the mean of the source area it covers, fractional edges weighted).</summary>
    internal static byte[] Resize(byte[] rgb, int stride, int x0, int y0, int x1, int y1, int width, int height)
    {
        var cols = Weights(x1 - x0, width);
        var rows = Weights(y1 - y0, height);
        var horizontal = new float[(y1 - y0) * width * 3];
        for (var y = 0; y < y1 - y0; y++)
        for (var tx = 0; tx < width; tx++)
        {
            float r = 0, g = 0, b = 0;
            foreach (var (sx, w) in cols[tx])
            {
                var p = ((y0 + y) * stride + x0 + sx) * 3;
                r += w * rgb[p];
                g += w * rgb[p + 1];
                b += w * rgb[p + 2];
            }
            var o = (y * width + tx) * 3;
            horizontal[o] = r;
            horizontal[o + 1] = g;
            horizontal[o + 2] = b;
        }
        var result = new byte[width * height * 3];
        for (var ty = 0; ty < height; ty++)
        for (var x = 0; x < width * 3; x++)
        {
            float v = 0;
            foreach (var (sy, w) in rows[ty]) v += w * horizontal[sy * width * 3 + x];
            result[ty * width * 3 + x] = (byte)Math.Clamp(MathF.Round(v), 0, 255);
        }
        return result;
    }

    /// <summary>For each of <paramref name="target"/> cells, the source indices it covers and their weights (summing to 1).</summary>
    private static List<(int Index, float Weight)>[] Weights(int source, int target)
    {
        var scale = (double)source / target;
        var result = new List<(int, float)>[target];
        for (var t = 0; t < target; t++)
        {
            double start = t * scale, end = (t + 1) * scale;
            var list = new List<(int, float)>();
            for (var s = (int)Math.Floor(start); s < Math.Min(source, (int)Math.Ceiling(end)); s++)
            {
                var cover = Math.Min(end, s + 1) - Math.Max(start, s);
                if (cover > 1e-9) list.Add((s, (float)(cover / scale)));
            }
            result[t] = list;
        }
        return result;
    }
}

/// <summary>A named list of <see cref="PageRegions.All"/>'s regions; <paramref name="Version"/> changes with the list.</summary>
public sealed record RegionSet(string Name, string Version, IReadOnlyList<(string Name, double X0, double Y0, double X1, double Y1)> Regions);
