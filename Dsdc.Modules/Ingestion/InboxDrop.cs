using System.Globalization;

namespace Dsdc.Ingestion;

/// <summary>
/// Puts a copy of a file into the inbox as a folder of its own, with a <c>label.txt</c> when the file has a class. The
/// folder is written under a hidden name (ingestion skips names that start with a dot), then renamed, so ingestion
/// never sees half a folder; one that a stopped process left hidden is removed by a later ingestion run once nothing
/// has written it for a day (<see cref="InboxIngestor.AbandonedUploadAge"/>). The source file is only read.
/// </summary>
internal static class InboxDrop
{
    /// <summary>How the hidden name of a folder being written begins.</summary>
    public const string StagingPrefix = ".drop-";

    /// <summary>Copies <paramref name="file"/> into <paramref name="inbox"/>/<paramref name="name"/> (or name~2, name~3...
    /// when taken). Returns the folder's path.</summary>
    public static string Add(string inbox, string file, int? label, string name)
    {
        var hidden = Path.Combine(inbox, $"{StagingPrefix}{name}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(hidden);
        try
        {
            File.Copy(file, Path.Combine(hidden, Path.GetFileName(file)));
            if (label is { } l)
                File.WriteAllText(Path.Combine(hidden, LabelFile.Name), l.ToString(CultureInfo.InvariantCulture) + "\n");
            while (true)
            {
                var target = InboxIngestor.UniqueName(inbox, name);
                try
                {
                    Directory.Move(hidden, target);
                    return target;
                }
                catch (IOException) when (Path.Exists(target))
                {
                    // Taken between the check and the move (another writer): the next free name.
                }
            }
        }
        catch
        {
            // Nothing half-made stays behind: the hidden folder is this call's own. Should it not go, the sweep takes it.
            try { Directory.Delete(hidden, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }
}
