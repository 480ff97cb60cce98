using System.Globalization;
using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Dsdc.Training;

namespace Dsdc.Ingestion;

/// <summary>
/// <c>import DIR [--labelled-only] [--dry-run]</c>: an archive of documents already sorted into folders becomes inbox
/// entries. Each document file under DIR (TIFF, PNG, JPEG, BMP, PDF) is copied into the inbox as a folder of its own,
/// with a <c>label.txt</c> when a folder above it names its class (<see cref="LabelledCorpus.ClassOfFolder"/>); files
/// under no class folder come unlabelled, for the model to predict and a person to review. DIR is only read. A document
/// already stored, or met twice in DIR, is left out (the first one met, in path order, is kept), so importing the same
/// archive again adds nothing. Hidden files and folders and symbolic links are not followed. Ingestion (the
/// <c>ingest</c> command, or a running app's job) then processes the entries as it does any other.
/// </summary>
internal sealed class ImportCommand(DocumentStore store, DsdcPaths paths) : ICliCommand
{
    public string Name => "import";
    public string Usage => "DIR [--labelled-only] [--dry-run]  copy every document under DIR into the inbox, labelled by the folder that names its class (<index>_<name>, or the class's name: invoice, Invoices, scientific_reports...)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var positional = cli.Positional();
        if (positional.Count != 1) throw new CommandLineException("import needs one folder");
        var root = Path.GetFullPath(positional[0]);
        if (!Directory.Exists(root)) throw new CommandLineException($"{root} is not a folder");
        var dataDir = Path.GetFullPath(paths.DataDir);
        if (IsUnder(root, dataDir) || IsUnder(dataDir, root))
        {
            Console.Error.WriteLine($"{root} and the data folder {dataDir} overlap; import from a folder outside it.");
            return 1;
        }
        var labelledOnly = cli.Flag("--labelled-only");
        var dryRun = cli.Flag("--dry-run");

        var plan = new List<(string Path, int? Label)>();
        var firstOf = new Dictionary<string, int?>(StringComparer.Ordinal);
        var notDocuments = new SortedDictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var unreadable = new List<string>();
        int stored = 0, repeated = 0, repeatedOtherClass = 0, unlabelledLeft = 0;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true, IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
        };
        foreach (var file in Directory.EnumerateFiles(root, "*", options).Order(StringComparer.Ordinal))
        {
            if (!LabelledCorpus.IsDocumentFile(file))
            {
                var ext = Path.GetExtension(file) is { Length: > 0 } e ? e.ToLowerInvariant() : "(no extension)";
                notDocuments[ext] = notDocuments.GetValueOrDefault(ext) + 1;
                continue;
            }
            var label = LabelledCorpus.LabelOf(file, root);
            if (label is null && labelledOnly)
            {
                unlabelledLeft++;
                continue;
            }
            string id;
            try
            {
                id = await InboxIngestor.HashAsync(file, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                unreadable.Add($"{Path.GetRelativePath(root, file)} ({ex.Message})");
                continue;
            }
            if (firstOf.TryGetValue(id, out var first))
            {
                repeated++;
                if (first != label) repeatedOtherClass++;
                continue;
            }
            firstOf[id] = label;
            if (await store.DocumentExistsAsync(id, ct))
            {
                stored++;
                continue;
            }
            plan.Add((file, label));
        }

        if (!dryRun)
        {
            var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            for (var i = 0; i < plan.Count; i++)
                InboxDrop.Add(paths.Inbox, plan[i].Path, plan[i].Label, $"import-{stamp}-{i + 1:D5}");
        }

        var labelled = plan.Where(p => p.Label is not null).ToList();
        Console.WriteLine($"{(dryRun ? "Would import" : "Imported")} {plan.Count} document(s) from {root} into {paths.Inbox}: " +
            $"{labelled.Count} labelled, {plan.Count - labelled.Count} unlabelled.");
        if (labelled.Count > 0)
            Console.WriteLine("  " + string.Join(", ", labelled.GroupBy(p => p.Label!.Value).OrderBy(g => g.Key)
                .Select(g => $"{DocumentClasses.NameOf(g.Key)} {g.Count()}")));
        var left = new List<string>();
        if (stored > 0) left.Add($"{stored} already stored");
        if (repeated > 0) left.Add($"{repeated} met again in the folder" + (repeatedOtherClass > 0 ? $" ({repeatedOtherClass} under another class: the first one's was kept)" : ""));
        if (unlabelledLeft > 0) left.Add($"{unlabelledLeft} under no class folder (--labelled-only)");
        if (notDocuments.Count > 0) left.Add($"{notDocuments.Values.Sum()} file(s) that are not documents ({string.Join(", ", notDocuments.Select(kv => $"{kv.Key} {kv.Value}"))})");
        if (unreadable.Count > 0) left.Add($"{unreadable.Count} unreadable: {string.Join("; ", unreadable.Take(5))}{(unreadable.Count > 5 ? "; ..." : "")}");
        if (left.Count > 0) Console.WriteLine("Left out: " + string.Join("; ", left) + ".");
        if (firstOf.Count == 0 && unreadable.Count == 0 && unlabelledLeft == 0)
        {
            Console.Error.WriteLine($"No document (TIFF, PNG, JPEG, BMP, PDF) under {root}.");
            return 1;
        }
        if (!dryRun && plan.Count > 0)
            Console.WriteLine("`ingest` processes them now; a running app's ingestion job picks them up on its own.");
        return unreadable.Count > 0 ? 1 : 0;
    }

    private static bool IsUnder(string path, string folder)
    {
        var relative = Path.GetRelativePath(folder, path);
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }
}
