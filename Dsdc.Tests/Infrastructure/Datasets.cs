using System.Text.RegularExpressions;

namespace Dsdc.Tests.Infrastructure;

/// <summary>
/// The shared labelled documents (never copied into the repository): <c>DSDC_TEST_DATASETS</c>, else a
/// <c>shared/datasets</c> folder beside an ancestor of the test binary or working directory. A file's label is its nearest
/// ancestor folder named <c>&lt;index&gt;_&lt;name&gt;</c>, as the <c>evaluate</c> command reads it. Missing data fails.
/// </summary>
public static partial class Datasets
{
    public sealed record LabelledFile(string Path, int Label);

    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    /// <summary>A file by its path under <see cref="Root"/>, e.g. <c>mlops_rvl_sample/6_scientific_publication/x.tif</c>.</summary>
    public static string File(string relativePath)
    {
        var path = Path.Combine(Root, relativePath);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"dataset file {relativePath} is missing under {Root}", path);
    }

    /// <summary>Every labelled document, in a stable order.</summary>
    public static IReadOnlyList<LabelledFile> All() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(path => LabelOf(path) is { } label ? new LabelledFile(path, label) : null)
            .OfType<LabelledFile>()
            .ToList();

    public static IReadOnlyList<string> Files(int classIndex) =>
        All().Where(f => f.Label == classIndex).Select(f => f.Path).ToList();

    /// <summary>The labelled documents whose extension is one of <paramref name="extensions"/> (case-insensitive, with dot).</summary>
    public static IReadOnlyList<string> WithExtension(params string[] extensions) =>
        All().Select(f => f.Path)
            .Where(p => extensions.Contains(Path.GetExtension(p), StringComparer.OrdinalIgnoreCase))
            .ToList();

    /// <summary>The class index of the nearest ancestor folder named <c>&lt;index&gt;_&lt;name&gt;</c>, or null.</summary>
    public static int? LabelOf(string path)
    {
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(path)); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            var match = ClassFolder().Match(Path.GetFileName(dir));
            if (match.Success && int.Parse(match.Groups[1].Value) is var label and >= 0 and < 16) return label;
        }
        return null;
    }

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("DSDC_TEST_DATASETS") is { Length: > 0 } configured)
            return Directory.Exists(configured)
                ? configured
                : throw new DirectoryNotFoundException($"DSDC_TEST_DATASETS={configured} does not exist");
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Path.Combine(dir.FullName, "shared", "datasets") is var candidate && Directory.Exists(candidate))
                    return candidate;
        throw new DirectoryNotFoundException(
            "No labelled datasets: set DSDC_TEST_DATASETS to the shared/datasets folder (one folder per source, then <index>_<name>/).");
    }

    [GeneratedRegex(@"^(\d{1,2})_[A-Za-z0-9_]+$")]
    private static partial Regex ClassFolder();
}
