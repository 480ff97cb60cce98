using Dapper;
using Dsdc.ImageProcessing;
using Dsdc.ImageProcessing.Native;
using Dsdc.Shared;
using Npgsql;

namespace Dsdc.Inference.Api;

/// <summary>
/// Browser-ready images of stored documents: page 1 rendered as PNG (TIFF and PDF included) and the processed 224x224
/// thumbnail. Documents are found by id in the database; no file path ever comes from the request.
/// </summary>
public sealed class PageImages(NpgsqlDataSource dataSource, DsdcPaths paths, ImageDecoder decoder, PdfPageRenderer pdf)
{
    public const int MaxWidth = 1000;
    private const int PdfDpi = 100;

    public static bool IsDocumentId(string id) => id.Length == 40 && id.All(char.IsAsciiHexDigitLower);

    /// <summary>Page 1 as a PNG at most <see cref="MaxWidth"/> pixels wide, or null for an unknown document.</summary>
    public async Task<byte[]?> PagePngAsync(string documentId, CancellationToken ct)
    {
        if (!IsDocumentId(documentId)) return null;
        var file = await FileOfAsync("SELECT file_path FROM ingestion.documents WHERE id = @documentId", documentId, ct);
        if (file is null) return null;
        var data = decoder.ReadFile(file);
        var format = ImageDecoder.DetectFormat(data);
        if (format == DocumentFormat.Pdf)
        {
            using var rendered = pdf.Render(file, [1], PdfDpi, PageColor.Rgb, ct);
            using var page = rendered.Load(1);
            return ToPng(page);
        }
        using (var first = decoder.DecodeFirstPage(data, format))
            return ToPng(first);
    }

    /// <summary>The newest processed 224x224 PNG of the document, or null when it has none.</summary>
    public async Task<byte[]?> ThumbnailPngAsync(string documentId, CancellationToken ct)
    {
        if (!IsDocumentId(documentId)) return null;
        var file = await FileOfAsync(
            "SELECT file_path FROM pipeline.images WHERE document_id = @documentId ORDER BY created_at DESC, id DESC LIMIT 1", documentId, ct);
        return file is null ? null : await File.ReadAllBytesAsync(file, ct);
    }

    private async Task<string?> FileOfAsync(string sql, string documentId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var relative = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(sql, new { documentId }, cancellationToken: ct));
        if (relative is null) return null;
        // The stored path is relative to the data folder; refuse anything that would leave it.
        var root = Path.GetFullPath(paths.DataDir) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(root, relative));
        return full.StartsWith(root, StringComparison.Ordinal) && File.Exists(full) ? full : null;
    }

    private static byte[] ToPng(Pix page)
    {
        using var rgb = Pix.Required(Leptonica.pixConvertTo32(page), "pixConvertTo32");
        Leptonica.pixSetSpp(rgb, 3);
        var width = Math.Min(rgb.Width, MaxWidth);
        var height = Math.Max(1, (int)Math.Round((double)rgb.Height * width / rgb.Width));
        using var scaled = width == rgb.Width ? null : Pix.Required(Leptonica.pixScaleAreaMapToSize(rgb, width, height), "pixScaleAreaMapToSize");
        if (Leptonica.pixWriteMem(out var data, out var size, scaled ?? rgb, Leptonica.IffPng) != 0)
            throw new InvalidOperationException("Leptonica could not encode the PNG");
        return Leptonica.TakeBuffer(data, size);
    }
}
