using Dsdc.Shared;

namespace Dsdc.Ingestion;

/// <summary>Labelled files of a corpus: a file's class is its nearest ancestor folder named &lt;index&gt;_&lt;name&gt;.</summary>
public static class LabelledCorpus
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase)
        { ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".pdf" };

    public static IEnumerable<(string Path, int Label)> Enumerate(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f)))
            .Select(f => (f, LabelOf(f, root)))
            .Where(x => x.Item2 is not null)
            .Select(x => (x.f, x.Item2!.Value))
            .OrderBy(x => x.f, StringComparer.Ordinal);

    public static int? LabelOf(string file, string? stopAt = null)
    {
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(file)); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            var name = Path.GetFileName(dir);
            var cut = name.IndexOf('_');
            if (cut > 0 && int.TryParse(name.AsSpan(0, cut), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var label)
                && DocumentClasses.IsValid(label))
                return label;
            if (stopAt is not null && Path.GetFullPath(dir) == Path.GetFullPath(stopAt)) break;
        }
        return null;
    }
}
