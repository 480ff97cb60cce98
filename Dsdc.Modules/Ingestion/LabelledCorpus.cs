using System.Globalization;
using System.Text;
using Dsdc.Shared;

namespace Dsdc.Ingestion;

/// <summary>
/// Labelled files of a corpus: a file's class is its nearest ancestor folder that names a class, either as
/// <c>&lt;index&gt;_&lt;name&gt;</c> (the datasets' layout: the index decides) or by the class's name alone, singular or
/// plural, in any case, with spaces, underscores or hyphens between words (<c>invoice</c>, <c>Invoices</c>,
/// <c>scientific_reports</c>, <c>News-Article</c>).
/// </summary>
public static class LabelledCorpus
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase)
        { ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".pdf" };

    /// <summary>Whether the file's extension is one of a document's (TIFF, PNG, JPEG, BMP, PDF).</summary>
    public static bool IsDocumentFile(string path) => Extensions.Contains(Path.GetExtension(path));

    public static IEnumerable<(string Path, int Label)> Enumerate(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(IsDocumentFile)
            .Select(f => (f, LabelOf(f, root)))
            .Where(x => x.Item2 is not null)
            .Select(x => (x.f, x.Item2!.Value))
            .OrderBy(x => x.f, StringComparer.Ordinal);

    /// <summary>The class of the nearest ancestor folder of <paramref name="file"/> that names one, looking no higher than
    /// <paramref name="stopAt"/> (which counts); null when none does.</summary>
    public static int? LabelOf(string file, string? stopAt = null)
    {
        // Without its trailing separator ("archive/" is "archive"), or the walk would pass it and read the folders above.
        var stop = stopAt is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(stopAt));
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(file)); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (ClassOfFolder(Path.GetFileName(dir)) is { } label) return label;
            if (stop is not null && string.Equals(dir, stop, StringComparison.Ordinal)) break;
        }
        return null;
    }

    /// <summary>The class a folder's name gives: <c>&lt;index&gt;_&lt;name&gt;</c> by its index, or a class's name.</summary>
    public static int? ClassOfFolder(string name)
    {
        var cut = name.IndexOf('_');
        if (cut > 0 && int.TryParse(name.AsSpan(0, cut), NumberStyles.None, CultureInfo.InvariantCulture, out var label)
            && DocumentClasses.IsValid(label))
            return label;
        var words = Words(name);
        for (var c = 0; c < DocumentClasses.Count; c++)
            if (words == DocumentClasses.Names[c] || words == DocumentClasses.Names[c] + "s")
                return c;
        return null;
    }

    /// <summary>Lower case, the accents of Latin letters dropped (résumé), one space between words (spaces, underscores,
    /// hyphens and dots separate them). By a table, not Unicode normalisation, which the app's invariant globalisation
    /// mode does not do.</summary>
    private static string Words(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            var ch = char.ToLowerInvariant(c) switch
            {
                'à' or 'á' or 'â' or 'ä' or 'ã' or 'å' => 'a', 'ç' => 'c', 'è' or 'é' or 'ê' or 'ë' => 'e',
                'ì' or 'í' or 'î' or 'ï' => 'i', 'ñ' => 'n', 'ò' or 'ó' or 'ô' or 'ö' or 'õ' => 'o', 'ù' or 'ú' or 'û' or 'ü' => 'u',
                var other => other,
            };
            if (ch is ' ' or '_' or '-' or '.')
            {
                if (sb.Length > 0 && sb[^1] != ' ') sb.Append(' ');
            }
            else sb.Append(ch);
        }
        return sb.ToString().TrimEnd();
    }
}
