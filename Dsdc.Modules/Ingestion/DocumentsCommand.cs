using Dsdc.Shared;
using Dsdc.Shared.Cli;

namespace Dsdc.Ingestion;

/// <summary>
/// <c>documents delete ID...</c>: deletes stored documents as <c>DELETE /api/v1/documents/{id}</c> does
/// (<see cref="DocumentDeletion"/>), for an operator on the server (a request to erase documents by their ids). One line per
/// id. Exit codes: 0 every one deleted (or hidden, its files left to the next ingestion run), 1 some unknown or busy
/// (being stored, or a pipeline stage on it: run it again in a minute), 2 wrong usage (an id that is not a SHA-1).
/// </summary>
internal sealed class DocumentsCommand(DocumentDeletion deletion) : ICliCommand
{
    public string Name => "documents";
    public string Usage => "delete ID...  delete stored documents (their 40-digit hexadecimal ids) with their files and everything derived from them";
    public IReadOnlyList<string>? Options => [];

    /// <summary>Who the deletions are recorded as deleted by: the account that ran the command, on the command line.</summary>
    internal static string DeletedBy => $"{Environment.UserName} (command line)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (args is not ["delete", _, ..])
            throw new CommandLineException("Name what to do: documents delete ID...");
        var ids = args.Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList();
        if (ids.FirstOrDefault(id => !DocumentIds.IsValid(id)) is { } bad)
            throw new CommandLineException($"'{bad}' is not a document id (the document's SHA-1: 40 hexadecimal digits).");
        var exit = 0;
        foreach (var id in ids.Distinct())
        {
            ct.ThrowIfCancellationRequested();
            var outcome = await deletion.DeleteAsync(id, DeletedBy, ct);
            Console.WriteLine(outcome switch
            {
                DeletionOutcome.Deleted => $"{id} deleted",
                DeletionOutcome.Hidden => $"{id} deleted for every reader; some of its files could not be removed now (see the log): the next ingestion run removes them",
                DeletionOutcome.Unknown => $"{id} unknown: no stored document has this id",
                DeletionOutcome.BeingStored => $"{id} not deleted: it is being stored right now; run the command again in a moment",
                _ => $"{id} not deleted: a pipeline stage is working on it right now; run the command again in a minute",
            });
            if (outcome is not (DeletionOutcome.Deleted or DeletionOutcome.Hidden)) exit = 1;
        }
        return exit;
    }
}
