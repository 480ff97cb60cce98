using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Shared;

namespace Dsdc.Training;

/// <summary>
/// ResNet18 features of 224x224 tiles of the page near the scan's own resolution, where the regions see the page shrunk
/// 3-5 times: the page drawn at 672x896 (a 3x4 grid of tiles, about the 100-dpi scans' size) and at 448x672 (2x3),
/// each tile through the production ResNet18 encoder. What the network then sees is the type itself (its size, face,
/// handwriting, ruled cells) rather than the page's silhouette. Cached in a file: 18 network runs per page.
/// </summary>
internal static class PageTiles
{
    public static readonly (int Columns, int Rows)[] Grids = [(3, 4), (2, 3)];

    public static async Task<Dictionary<string, float[][][]>> LoadOrComputeAsync(string cache, IReadOnlyList<LabelledPage> docs,
        Dsdc.Ingestion.DocumentStore documents, DsdcPaths paths, IDocumentInspector inspector, IImagePreprocessor preprocessor,
        OnnxSessionFactory sessions, CancellationToken ct)
    {
        if (File.Exists(cache))
            return ProbeCache.Covering(System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, float[][][]>>(File.ReadAllText(cache))!, docs, cache);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var resnet = new ResNet18ImageEncoder(sessions, Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18"));
        var result = new Dictionary<string, float[][][]>(StringComparer.Ordinal);
        foreach (var d in docs)
        {
            var (path, format) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, ct);
            result[d.DocumentId] = Grids.Select(g =>
            {
                int width = g.Columns * PageRegions.Size, height = g.Rows * PageRegions.Size;
                var rgb = ((ImagePreprocessor)preprocessor).PageRgb(path, format, width, height);
                return resnet.Encode(Cut(rgb, width, g.Columns, g.Rows).Select(t => new RgbImage(PageRegions.Size, PageRegions.Size, t)).ToList(), ct);
            }).ToArray();
        }
        File.WriteAllText(cache, System.Text.Json.JsonSerializer.Serialize(result));
        Console.WriteLine($"tiles of {docs.Count} pages through ResNet18 in {watch.Elapsed.TotalSeconds:F0} s");
        return result;
    }

    /// <summary>The tiles of an interleaved RGB page, row by row.</summary>
    internal static IEnumerable<byte[]> Cut(byte[] rgb, int width, int columns, int rows)
    {
        const int size = PageRegions.Size;
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                var tile = new byte[size * size * 3];
                for (var y = 0; y < size; y++)
                    Array.Copy(rgb, ((r * size + y) * width + c * size) * 3, tile, y * size * 3, size * 3);
                yield return tile;
            }
    }

    /// <summary>The tiles' mean, and their element-wise maximum when asked.</summary>
    internal static float[] Pool(float[][] tiles, bool max)
    {
        var dims = tiles[0].Length;
        var pooled = new float[max ? 2 * dims : dims];
        for (var j = 0; j < dims; j++)
        {
            pooled[j] = tiles.Average(t => t[j]);
            if (max) pooled[dims + j] = tiles.Max(t => t[j]);
        }
        return pooled;
    }
}
