using System.ComponentModel.DataAnnotations;

namespace Dsdc.Shared;

/// <summary>Where DSDC keeps its files. Relative paths are resolved against the content root.</summary>
public sealed class DsdcOptions
{
    public const string Section = "Dsdc";

    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "data";

    [Required(AllowEmptyStrings = false)]
    public string ModelsDir { get; set; } = "models";
}

/// <summary>Absolute locations derived from <see cref="DsdcOptions"/>; the folders exist once the app has started.</summary>
public sealed class DsdcPaths
{
    public DsdcPaths(string contentRoot, DsdcOptions options)
    {
        DataDir = Path.GetFullPath(options.DataDir, contentRoot);
        ModelsDir = Path.GetFullPath(options.ModelsDir, contentRoot);
    }

    public string DataDir { get; }
    public string ModelsDir { get; }
    public string Inbox => Path.Combine(DataDir, "to_ingest");
    public string Raw => Path.Combine(DataDir, "raw");
    public string Processed => Path.Combine(DataDir, "processed");
    public string Rejected => Path.Combine(DataDir, "rejected");

    /// <summary>The full path of a path relative to <paramref name="folder"/> (the data folder by default) as the database
    /// stores it, or null when it would lie outside that folder.</summary>
    public string? Under(string relative, string? folder = null)
    {
        var root = Path.GetFullPath(folder ?? DataDir).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(DataDir, relative));
        return full.StartsWith(root, StringComparison.Ordinal) ? full : null;
    }

    public void EnsureCreated()
    {
        foreach (var dir in new[] { Inbox, Raw, Processed, Rejected, ModelsDir })
            Directory.CreateDirectory(dir);
    }
}
