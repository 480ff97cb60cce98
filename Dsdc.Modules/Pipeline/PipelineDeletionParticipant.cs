using Dsdc.Ingestion;
using Npgsql;

namespace Dsdc.Pipeline;

/// <summary>The pipeline's part in deleting a document (<see cref="DocumentDeletion"/>): not while a stage has claimed it,
/// and its processed pages go with it (every processor version's, and a write a crash left behind).</summary>
internal sealed class PipelineDeletionParticipant(DocumentProcessor processor) : IDocumentDeletionParticipant
{
    public Task<bool> MayDeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string documentId, CancellationToken ct) =>
        StageStore.TryHoldClaimsAsync(connection, transaction, documentId, ct);

    public IEnumerable<string> FilesOf(string documentId)
    {
        var folder = processor.DataPath(Path.GetDirectoryName(DocumentProcessor.ProcessedImagePath(documentId, "p", "v"))!);
        if (!Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, documentId + ".*")
            .Concat(Directory.EnumerateFiles(folder, "." + documentId + ".*.tmp"))
            .ToList();
    }
}
