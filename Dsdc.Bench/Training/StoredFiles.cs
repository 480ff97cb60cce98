using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Shared;

namespace Dsdc.Training;

/// <summary>For the benches that read labelled pages again from their files.</summary>
internal static class StoredFiles
{
    /// <summary>Where a stored document's file lies under the data folder, and its format.</summary>
    public static async Task<(string Path, DocumentFormat Format)> StoredFileAsync(this DocumentStore documents, string documentId, DsdcPaths paths,
        IDocumentInspector inspector, CancellationToken ct)
    {
        var file = await documents.FindAsync(documentId, ct) ?? throw new InvalidOperationException($"document {documentId} is not stored");
        var path = Path.Combine(paths.DataDir, file.FilePath);
        return (path, inspector.Inspect(path).Format);
    }
}

/// <summary><c>--regions 1-2-4-5</c>: the benches' pages keep only those of the stored regions (PageRegions.All's order).</summary>
internal static class RegionSubset
{
    public static List<LabelledPage> Apply(CliArgs cli, IReadOnlyList<LabelledPage> docs)
    {
        if (cli.Value("--regions") is not { } spec) return docs.ToList();
        RequireEveryRegion(docs);
        const int size = 512;
        var keep = spec.Split('-').Select(int.Parse).ToArray();
        Console.WriteLine($"regions kept: {string.Join(", ", keep.Select(k => PageRegions.All[k].Name))}");
        return docs.Select(d => d.Inputs.Regions is not { } r ? d
            : d with { Inputs = d.Inputs with { Regions = keep.SelectMany(k => r[(k * size)..((k + 1) * size)]).ToArray() } }).ToList();
    }

    /// <summary>For the benches that read the stored region features in <see cref="PageRegions.All"/>'s order.</summary>
    public static void RequireEveryRegion(IReadOnlyList<LabelledPage> docs)
    {
        var every = Dsdc.Embedding.RegionEncoder.DimensionsOf(PageRegions.AllRegions);
        if (docs.FirstOrDefault(d => d.Inputs.Regions is { } r && r.Length != every) is { } other)
            throw new InvalidOperationException($"this bench reads the features of every region ({every} values, PageRegions.All's order), " +
                $"but the stored ones have {other.Inputs.Regions!.Length}: run it with Embedding:RegionSet=all");
    }
}
