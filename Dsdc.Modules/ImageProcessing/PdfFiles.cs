using UglyToad.PdfPig;
using UglyToad.PdfPig.Exceptions;

namespace Dsdc.ImageProcessing;

/// <summary>Opens PDFs with PdfPig (managed, Apache-2.0), turning its failures into refusals with reason codes.</summary>
public static class PdfFiles
{
    public static PdfDocument Open(byte[] data)
    {
        try
        {
            return PdfDocument.Open(data, new ParsingOptions { UseLenientParsing = true });
        }
        catch (PdfDocumentEncryptedException)
        {
            throw Refusal.Of(Refusal.Encrypted, "The PDF is encrypted and needs a password to open.");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // PdfPig reports damage with many exception types (format, parse, index, null reference...).
            throw Refusal.Of(Refusal.Corrupt, $"The PDF cannot be read: {ex.Message}");
        }
    }

    /// <summary>Runs a PdfPig call on an open document, reporting damage found late (in a page) as a refusal.</summary>
    public static T Read<T>(Func<T> read, int page)
    {
        try
        {
            return read();
        }
        catch (PdfDocumentEncryptedException)
        {
            throw Refusal.Of(Refusal.Encrypted, "The PDF is encrypted and needs a password to open.");
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or InvalidDocumentException or OperationCanceledException))
        {
            throw Refusal.Of(Refusal.Corrupt, $"The PDF's page {page} cannot be read: {ex.Message}");
        }
    }
}
