using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Dsdc.Ingestion;

/// <summary>
/// Folder moves that also work when the inbox is a volume of its own (a scanner's share mounted at
/// <c>data/to_ingest</c>): a rename where source and target share a volume. Across volumes, where a rename fails with
/// EXDEV:
/// <list type="number">
/// <item>the source is renamed aside on its own volume (<c>.moving-&lt;id&gt;</c>, its name in <c>.moving-&lt;id&gt;.name</c>),
/// so no run takes it, or what is left of it, for an inbox entry meanwhile;</item>
/// <item>it is copied under a hidden name beside the target (<c>cp -a</c>: links stay links, a named pipe stays a pipe and
/// is never opened), the target's volume flushed, and the copy renamed into place: from then on the move is done;</item>
/// <item>the source, renamed <c>.drop-moved-&lt;id&gt;</c>, is removed.</item>
/// </list>
/// A failure before the copy is in place puts the source back and fails the move. A process stopped before then leaves
/// the source aside, which the next ingestion run puts back (<see cref="Interrupted"/>): the folder is then handled again,
/// at worst leaving a second copy in <c>rejected/</c>, never none. What a failure or a stop leaves after the copy (a
/// source not wholly removed) and hidden partial copies are swept by ingestion runs a day later
/// (<see cref="InboxDrop.StagingPrefix"/>).
/// </summary>
internal static class CrossVolume
{
    private const int Exdev = 18;

    /// <summary>A source set aside during a move across volumes.</summary>
    public const string AsidePrefix = ".moving-";

    private const string NameSuffix = ".name";

    /// <summary>Whether a rename failed because source and target lie on different volumes.</summary>
    public static bool IsCrossDevice(IOException ex) =>
        ex.HResult == Exdev || ex.Message.Contains("cross-device", StringComparison.OrdinalIgnoreCase)
        || ex.Message.EndsWith($"errno {Exdev}", StringComparison.Ordinal);

    /// <summary>Moves the folder (or the link itself) <paramref name="source"/> to <paramref name="target"/>, which must not exist.</summary>
    public static void MoveDirectory(string source, string target, ILogger logger)
    {
        try
        {
            if (new DirectoryInfo(source).LinkTarget is not null) RawNames.RenameEntry(source, target); // the link itself
            else Directory.Move(source, target);
            return;
        }
        catch (IOException ex) when (IsCrossDevice(ex))
        {
        }
        var id = Guid.NewGuid().ToString("N");
        var sourceParent = Path.GetDirectoryName(source)!;
        var targetParent = Path.GetDirectoryName(target)!;
        var aside = Path.Combine(sourceParent, AsidePrefix + id);
        var hidden = Path.Combine(targetParent, InboxDrop.StagingPrefix + id);
        File.WriteAllText(aside + NameSuffix, Path.GetFileName(source));
        RawNames.RenameEntry(source, aside);
        try
        {
            Run("cp", "-a", "--", aside, hidden);
            // cp -a kept the files' own times: the copy is dated now, so that no sweep takes it for an abandoned one.
            if (new DirectoryInfo(hidden).LinkTarget is null) Directory.SetLastWriteTimeUtc(hidden, DateTime.UtcNow);
            Run("sync", "-f", "--", targetParent); // the target's volume (never a path inside the copy: a link is not followed)
            RawNames.RenameEntry(hidden, target);
        }
        catch
        {
            TryRun(logger, "rm", "-rf", "--", hidden);
            RawNames.RenameEntry(aside, source);
            File.Delete(aside + NameSuffix);
            throw;
        }
        // The copy is in place: the move is done, whatever the tidying up below meets (swept later).
        try
        {
            Run("sync", "-f", "--", targetParent);
            var moved = Path.Combine(sourceParent, $"{InboxDrop.StagingPrefix}moved-{id}");
            RawNames.RenameEntry(aside, moved);
            File.Delete(aside + NameSuffix);
            Run("rm", "-rf", "--", moved);
        }
        catch (IOException ex)
        {
            logger.LogWarning("Moved {Source} to {Target} across volumes, but could not remove the source ({Error}); a later ingestion run removes it",
                source, target, ex.Message);
        }
    }

    /// <summary>The sources that moves across volumes set aside under <paramref name="parent"/> and never finished (their
    /// process stopped before the copy was in place), each with the name it had.</summary>
    public static IReadOnlyList<(string Aside, string Name)> Interrupted(string parent)
    {
        if (!Directory.Exists(parent)) return [];
        var found = new List<(string, string)>();
        foreach (var entry in new DirectoryInfo(parent).EnumerateFileSystemInfos(AsidePrefix + "*"))
        {
            if (entry.Name.EndsWith(NameSuffix, StringComparison.Ordinal)) continue;
            var nameFile = entry.FullName + NameSuffix;
            var name = File.Exists(nameFile) ? File.ReadAllText(nameFile).Trim() : "";
            found.Add((entry.FullName, name.Length > 0 && name == Path.GetFileName(name) && !name.StartsWith('.') ? name : "restored-" + entry.Name[AsidePrefix.Length..]));
        }
        return found;
    }

    /// <summary>Puts an interrupted move's source back under <paramref name="to"/>.</summary>
    public static void Restore(string aside, string to)
    {
        RawNames.RenameEntry(aside, to);
        File.Delete(aside + NameSuffix);
    }

    private static void TryRun(ILogger logger, string command, params string[] args)
    {
        try
        {
            Run(command, args);
        }
        catch (IOException ex)
        {
            logger.LogWarning("{Command} failed: {Error}; a later ingestion run removes what is left", command, ex.Message);
        }
    }

    private static void Run(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new IOException($"could not start {command}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new IOException($"could not start {command}: {ex.Message}", ex);
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new IOException($"{command} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result.Trim()}");
        }
    }
}
