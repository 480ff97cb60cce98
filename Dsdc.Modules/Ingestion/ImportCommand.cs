using System.Globalization;
using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Dsdc.Training;

namespace Dsdc.Ingestion;

/// <summary>
/// <c>import DIR [--labelled-only] [--dry-run]</c>: an archive of documents already sorted into folders becomes inbox
/// entries. Each document file under DIR (TIFF, PNG, JPEG, BMP, PDF) is copied into the inbox as a folder of its own,
/// <c>import-&lt;sha1&gt;</c>, with a <c>label.txt</c> when a folder above it names its class
/// (<see cref="LabelledCorpus.ClassOfFolder"/>); files under no class folder come unlabelled, for the model to predict
/// and a person to review. DIR is only read. Importing the same archive again adds nothing: a file met twice in DIR is
/// imported once (with a class where a copy has one, the first such in path order), and a file already stored, already
/// waiting in the inbox, or refused before for its content is left out. A stored document without a class takes the
/// archive's (a dataset label, as an inbox <c>label.txt</c> gives); one with a class keeps it. Hidden files and folders
/// and symbolic links are not followed. Ingestion (the <c>ingest</c> command, or a running app's job) then processes the
/// entries as any other.
/// </summary>
internal sealed class ImportCommand(DocumentStore store, DsdcPaths paths) : ICliCommand
{

    /// <summary>The refusals that a file earns by its content, whatever folder or label it comes with.</summary>
    private static readonly string[] ContentRefusals =
        [Refusal.EmptyFile, Refusal.TooLarge, Refusal.UnsupportedFormat, Refusal.Corrupt, Refusal.TooManyPixels, Refusal.TooManyPages, Refusal.Encrypted];

    public string Name => "import";
    public IReadOnlyList<string> Options => ["--labelled-only", "--dry-run"];
    public string Usage => "DIR [--labelled-only] [--dry-run]  copy every document under DIR into the inbox, labelled by the folder that names its class (<index>_<name>, or the class's name: invoice, Invoices, scientific_reports...)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var positional = cli.Positional();
        if (positional.Count != 1) throw new CommandLineException("import needs one folder");
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(positional[0]));
        if (!Directory.Exists(root)) throw new CommandLineException($"{root} is not a folder");
        var dataDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(paths.DataDir));
        if (Overlaps(root, dataDir, [paths.Inbox, paths.Raw, paths.Processed, paths.Rejected, Path.Combine(paths.DataDir, ".uploads")]))
        {
            Console.Error.WriteLine($"{root} and the data folder {dataDir} overlap (the data folder, or one of the folders the app " +
                "writes: to_ingest, raw, processed, rejected, .uploads); import from a folder of its own, outside them.");
            return 1;
        }
        var labelledOnly = cli.Flag("--labelled-only");
        var dryRun = cli.Flag("--dry-run");

        // Each distinct file once: its first copy with a class, else its first copy.
        var found = new Dictionary<string, (string Path, int? Label)>(StringComparer.Ordinal);
        var notDocuments = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var unreadable = new List<string>();
        int repeated = 0, otherClass = 0, unlabelledLeft = 0, empty = 0;
        foreach (var file in Files(root, unreadable))
        {
            ct.ThrowIfCancellationRequested();
            if (!LabelledCorpus.IsDocumentFile(file.FullName))
            {
                var ext = file.Extension is { Length: > 0 } e ? e.ToLowerInvariant() : "(no extension)";
                notDocuments[ext] = notDocuments.GetValueOrDefault(ext) + 1;
                continue;
            }
            if (file.Length == 0)
            {
                empty++; // nothing to import, and never opened: a named pipe's length is 0 too
                continue;
            }
            var label = LabelledCorpus.LabelOf(file.FullName, root);
            if (label is null && labelledOnly)
            {
                unlabelledLeft++;
                continue;
            }
            string id;
            try
            {
                id = await InboxIngestor.HashAsync(file.FullName, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                unreadable.Add($"{Path.GetRelativePath(root, file.FullName)} ({ex.Message})");
                continue;
            }
            if (found.TryGetValue(id, out var first))
            {
                repeated++;
                if (first.Label is null && label is not null) found[id] = (file.FullName, label);
                else if (label is not null && first.Label != label) otherClass++;
                continue;
            }
            found[id] = (file.FullName, label);
        }

        var (stored, refused) = found.Count == 0 ? ([], []) : await store.KnownFilesAsync(found.Keys, ContentRefusals, ct);
        var plan = new List<(string Id, string Path, int? Label)>();
        int waiting = 0, refusedBefore = 0, storedCount = 0, keptClass = 0;
        var labelledStored = new List<int>();
        foreach (var (id, (path, label)) in found.OrderBy(f => f.Value.Path, StringComparer.Ordinal))
        {
            if (stored.TryGetValue(id, out var current))
            {
                if (label is not null && current is null && !dryRun)
                {
                    try
                    {
                        // null: written; else the label a person gave it meanwhile, which it keeps.
                        current = await store.LabelIfUnlabelledAsync(id, new IncomingLabel(label.Value, null), ct);
                    }
                    catch (KeyNotFoundException)
                    {
                        // Deleted since it was listed: its file is not stored any more, and comes in as a new document.
                        plan.Add((id, path, label));
                        continue;
                    }
                }
                storedCount++;
                if (label is null) continue;
                if (current is null) labelledStored.Add(label.Value);
                else if (current != label) keptClass++;
            }
            else if (refused.Contains(id)) refusedBefore++;
            else if (Path.Exists(Path.Combine(paths.Inbox, FolderName(id)))) waiting++;
            else plan.Add((id, path, label));
        }

        if (!dryRun)
        {
            foreach (var (id, path, label) in plan)
            {
                ct.ThrowIfCancellationRequested();
                InboxDrop.Add(paths.Inbox, path, label, FolderName(id));
            }
        }

        var labelled = plan.Where(p => p.Label is not null).Select(p => p.Label!.Value).ToList();
        Console.WriteLine($"{(dryRun ? "Would import" : "Imported")} {plan.Count} document(s) from {root} into {paths.Inbox}: " +
            $"{labelled.Count} labelled, {plan.Count - labelled.Count} unlabelled.");
        if (labelled.Count > 0) Console.WriteLine("  " + PerClass(labelled));
        if (labelledStored.Count > 0)
            Console.WriteLine($"{(dryRun ? "Would label" : "Labelled")} {labelledStored.Count} stored document(s) that had no class: {PerClass(labelledStored)}.");
        var left = new List<string>();
        if (storedCount > 0) left.Add($"{storedCount} already stored" + (keptClass > 0 ? $" ({keptClass} with another class, which they keep: correct it on the document's page)" : ""));
        if (waiting > 0) left.Add($"{waiting} already waiting in the inbox");
        if (refusedBefore > 0) left.Add($"{refusedBefore} refused before for their content (see data/rejected/; after a change of limits, move the folder back into the inbox)");
        if (repeated > 0) left.Add($"{repeated} met again in the folder" + (otherClass > 0 ? $" ({otherClass} under another class: the first one's was kept)" : ""));
        if (unlabelledLeft > 0) left.Add($"{unlabelledLeft} under no class folder (--labelled-only)");
        if (empty > 0) left.Add($"{empty} empty");
        if (notDocuments.Count > 0) left.Add($"{notDocuments.Values.Sum()} file(s) that are not documents ({string.Join(", ", notDocuments.Select(kv => $"{kv.Key} {kv.Value}"))})");
        if (unreadable.Count > 0) left.Add($"{unreadable.Count} unreadable: {string.Join("; ", unreadable.Take(5))}{(unreadable.Count > 5 ? "; ..." : "")}");
        if (left.Count > 0) Console.WriteLine("Left out: " + string.Join("; ", left) + ".");
        if (found.Count == 0 && unreadable.Count == 0 && unlabelledLeft == 0)
        {
            Console.Error.WriteLine($"No document (TIFF, PNG, JPEG, BMP, PDF) under {root}.");
            return 1;
        }
        if (!dryRun && plan.Count > 0)
            Console.WriteLine("`ingest` processes them now; a running app's ingestion job picks them up on its own.");
        return unreadable.Count > 0 ? 1 : 0;
    }

    /// <summary>The inbox folder of the file whose document id is <paramref name="id"/>.</summary>
    internal static string FolderName(string id) => "import-" + id;

    private static string PerClass(IEnumerable<int> labels) =>
        string.Join(", ", labels.GroupBy(l => l).OrderBy(g => g.Key).Select(g => $"{DocumentClasses.NameOf(g.Key)} {g.Count()}"));

    /// <summary>The regular files under <paramref name="root"/>, in path order, neither hidden nor links nor under such
    /// folders; a folder that cannot be listed is added to <paramref name="unreadable"/>.</summary>
    private static IEnumerable<FileInfo> Files(string root, List<string> unreadable)
    {
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            List<FileSystemInfo> entries;
            try
            {
                entries = dir.EnumerateFileSystemInfos().Where(e => !e.Name.StartsWith('.') && e.LinkTarget is null)
                    .OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                unreadable.Add($"{Path.GetRelativePath(root, dir.FullName)}{Path.DirectorySeparatorChar} ({ex.Message})");
                continue;
            }
            foreach (var file in entries.OfType<FileInfo>()) yield return file;
            foreach (var sub in entries.OfType<DirectoryInfo>().Reverse()) pending.Push(sub);
        }
    }

    /// <summary>
    /// Whether the archive <paramref name="root"/> and the app's own files overlap: the archive is the data folder or
    /// holds it, as written or where they really are (a symbolic link to the data folder is the data folder), or it
    /// shares files with one of the folders the app writes (<paramref name="folders"/>: the inbox, raw, processed,
    /// rejected, uploads in progress; each may be a link elsewhere). An archive in a folder of its own under the data
    /// folder (<c>data/corpus/rvl</c>, where <c>scripts/download-rvl-sample.sh</c> is told to put its sample) does not.
    /// </summary>
    internal static bool Overlaps(string root, string dataDir, IEnumerable<string> folders)
    {
        static bool Either(string a, string b) => IsUnder(a, b) || IsUnder(b, a);
        var realRoot = RealPath(root);
        return IsUnder(dataDir, root) || IsUnder(RealPath(dataDir), realRoot)
            || folders.Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f)))
                .Any(f => Either(root, f) || Either(realRoot, RealPath(f)));
    }

    /// <summary>
    /// <paramref name="path"/> (absolute) with every symbolic link along it resolved, as realpath(3) gives it; the part
    /// that does not exist is kept as written. A cycle of links, or more than 40, leaves the path as resolved so far.
    /// </summary>
    internal static string RealPath(string path)
    {
        var resolved = Path.GetPathRoot(path)!;
        var rest = new Stack<string>(path[resolved.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        for (var links = 0; rest.TryPop(out var part);)
        {
            if (part == ".") continue;
            if (part == "..")
            {
                resolved = Path.GetDirectoryName(resolved) ?? resolved;
                continue;
            }
            var next = Path.Combine(resolved, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is not { } target || ++links > 40)
            {
                resolved = next;
                continue;
            }
            // The target's own parts are resolved in turn: a relative one from the link's folder, an absolute one from /.
            if (Path.IsPathRooted(target)) resolved = Path.GetPathRoot(target)!;
            foreach (var t in target[(Path.IsPathRooted(target) ? Path.GetPathRoot(target)!.Length : 0)..]
                         .Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                rest.Push(t);
        }
        return Path.TrimEndingDirectorySeparator(resolved);
    }

    private static bool IsUnder(string path, string folder)
    {
        var relative = Path.GetRelativePath(folder, path);
        return relative == "." || (relative != ".." && !relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            && !Path.IsPathRooted(relative));
    }
}
