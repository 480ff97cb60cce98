using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Shared;

namespace Dsdc.Training;

/// <summary>For the benches that read labelled pages again from their files.</summary>
internal static class StoredFiles
{
    /// <summary>Where a stored document's file lies under the data folder, and its format.</summary>
    public static async Task<(string Path, DocumentFormat Format)> StoredFileAsync(this DocumentStore documents, string documentId, DsdcPaths paths,
        IDocumentInspector inspector, CancellationToken ct)
    {
        var file = await documents.FindAsync(documentId, ct) ?? throw new InvalidOperationException($"document {documentId} is not stored");
        var path = Path.Combine(paths.DataDir, file.FilePath);
        return (path, inspector.Inspect(path).Format);
    }
}
