using System.Diagnostics;

namespace Dsdc.Ingestion;

/// <summary>
/// Folder moves that also work when the inbox is a volume of its own (a scanner's share mounted at
/// <c>data/to_ingest</c>): a rename where source and target share a volume; across volumes, where a rename fails with
/// EXDEV, a copy under a hidden name beside the target (<c>cp -a</c>: links stay links and a named pipe stays a pipe,
/// never opened), flushed to disk, renamed into place, and only then the source removed. A crash leaves the whole source
/// where it was, and at most a hidden partial copy, which ingestion runs sweep (<see cref="InboxDrop.StagingPrefix"/>).
/// </summary>
internal static class CrossVolume
{
    private const int Exdev = 18;

    /// <summary>Whether a rename failed because source and target lie on different volumes.</summary>
    public static bool IsCrossDevice(IOException ex) =>
        ex.HResult == Exdev || ex.Message.Contains("cross-device", StringComparison.OrdinalIgnoreCase);

    /// <summary>Moves the folder (or the link to one) <paramref name="source"/> to <paramref name="target"/>, which must not exist.</summary>
    public static void MoveDirectory(string source, string target)
    {
        var link = new DirectoryInfo(source).LinkTarget is not null;
        try
        {
            if (link) RawNames.RenameEntry(source, target); // the link itself, never what it points to
            else Directory.Move(source, target);
            return;
        }
        catch (IOException ex) when (IsCrossDevice(ex) || (link && ex.Message.EndsWith($"errno {Exdev}", StringComparison.Ordinal)))
        {
        }
        var parent = Path.GetDirectoryName(target)!;
        var hidden = Path.Combine(parent, $"{InboxDrop.StagingPrefix}{Path.GetFileName(target)}.{Guid.NewGuid():N}");
        try
        {
            Run("cp", "-a", "--", source, hidden);
            Run("sync", "-f", "--", hidden); // the copy's volume: every file of it on disk before it takes the target's name
            RawNames.RenameEntry(hidden, target);
            Run("sync", "--", parent);
        }
        catch
        {
            try
            {
                if (Directory.Exists(hidden) || File.Exists(hidden)) Run("rm", "-rf", "--", hidden);
            }
            catch (IOException)
            {
                // Swept by a later ingestion run.
            }
            throw;
        }
        Run("rm", "-rf", "--", source);
    }

    private static void Run(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new IOException($"could not start {command}");
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new IOException($"{command} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result.Trim()}");
    }
}
