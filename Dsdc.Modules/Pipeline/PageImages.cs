using Dapper;
using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Npgsql;

namespace Dsdc.Pipeline;

/// <summary>
/// Browser-ready images of stored documents: page 1 of the original rendered as PNG by ImageProcessing (TIFF and PDF
/// included) and the processed 224x224 thumbnail of the image stage. Documents are found by id in the database; no file
/// path ever comes from the request.
/// </summary>
public sealed class PageImages(NpgsqlDataSource dataSource, DsdcPaths paths, PagePreview preview)
{
    public const int MaxWidth = 1000;

    /// <summary>Pages decoded at once, one per core: the review page asks for 30 at a time, each a scan of up to
    /// Imaging:MaxPixelsPerPage decoded to 32 bits, and several reviewers at once would otherwise take the cores and the
    /// memory that OCR and classification need. The others wait their turn, off the request threads.</summary>
    private readonly SemaphoreSlim _rendering = new(Math.Max(1, Environment.ProcessorCount));

    public static bool IsDocumentId(string id) => DocumentIds.IsValid(id);

    /// <summary>Page 1 as a PNG at most <see cref="MaxWidth"/> pixels wide, or null for an unknown document.</summary>
    public async Task<byte[]?> PagePngAsync(string documentId, CancellationToken ct)
    {
        if (!IsDocumentId(documentId)) return null;
        var file = await FileOfAsync("SELECT file_path FROM ingestion.documents WHERE id = @documentId", documentId, ct);
        if (file is null) return null;
        await _rendering.WaitAsync(ct);
        try
        {
            return await Task.Run(() => preview.FirstPagePng(file, MaxWidth, ct), ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // deleted since it was looked up
        }
        finally
        {
            _rendering.Release();
        }
    }

    /// <summary>The newest processed 224x224 PNG of the document, or null when it has none.</summary>
    public async Task<byte[]?> ThumbnailPngAsync(string documentId, CancellationToken ct)
    {
        if (!IsDocumentId(documentId)) return null;
        var file = await FileOfAsync("""
            SELECT i.file_path FROM pipeline.images i WHERE i.document_id = @documentId
              AND EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = i.document_id)
            ORDER BY i.created_at DESC, i.id DESC LIMIT 1
            """, documentId, ct);
        try
        {
            return file is null ? null : await File.ReadAllBytesAsync(file, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // deleted since it was looked up
        }
    }

    private async Task<string?> FileOfAsync(string sql, string documentId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var relative = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(sql, new { documentId }, cancellationToken: ct));
        if (relative is null) return null;
        // The stored path is relative to the data folder; refuse anything that would leave it.
        return paths.Under(relative) is { } full && File.Exists(full) ? full : null;
    }
}
