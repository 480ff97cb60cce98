using System.Buffers.Binary;
using System.Diagnostics;
using Dsdc.ImageProcessing;
using Dsdc.ImageProcessing.Native;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.ImageProcessing;

/// <summary>
/// Real pages from the shared datasets, and documents generated from them in a temporary folder: the broken, hostile and
/// unusual files no dataset ships (multi-page TIFF, image-only PDF, truncated, encrypted, bombs). Dispose deletes them.
/// </summary>
public sealed class TestDocuments : IDisposable
{
    /// <summary>1-bit CCITT G4 fax TIFF, 1728x2292: the title reads "Structural proteins of human respiratory coronavirus OC43".</summary>
    public static string G4Paper => Datasets.File("mlops_rvl_sample/6_scientific_publication/rvl_aaa06d00_original.tif");

    /// <summary>8-bit grey JPEG, 2568x3271: a Philip Morris "RECORDS TRANSFER NOTICE".</summary>
    public static string JpegMemo => Datasets.File("tobacco3482_leticiahu/15_memo/2051083199.jpg");

    /// <summary>8-bit grey PNG, 754x1000.</summary>
    public static string GreyPng => Datasets.File("luthfi_layoutlm_samples/14_resume/doc_000476.png");

    /// <summary>Born-digital invoice, one US Letter page with a text layer.</summary>
    public static string TextPdf => Datasets.File("invoice2data_pdfs/11_invoice/AmazonWebServices.pdf");

    /// <summary>Born-digital, two pages.</summary>
    public static string TwoPageTextPdf => Datasets.File("invoice2data_pdfs/11_invoice/free_fiber.pdf");

    public string Folder { get; } = Directory.CreateTempSubdirectory("dsdc-docs-").FullName;

    public string PathOf(string name) => Path.Combine(Folder, name);

    public string Write(string name, ReadOnlySpan<byte> content)
    {
        var path = PathOf(name);
        File.WriteAllBytes(path, content.ToArray());
        return path;
    }

    public static Pix Decode(string path) => Pix.Read(File.ReadAllBytes(path)) ?? throw new InvalidDataException(path);

    /// <summary>One TIFF page per source file, in order (deflate-compressed; 1-bit pages as G4).</summary>
    public string MultiPageTiff(string name, params string[] pages)
    {
        var path = PathOf(name);
        for (var i = 0; i < pages.Length; i++)
        {
            using var page = Decode(pages[i]);
            var compression = page.Depth == 1 ? Leptonica.IffTiffG4 : Leptonica.IffTiffZip;
            Assert.Equal(0, Leptonica.pixWriteTiff(path, page, compression, i == 0 ? "w" : "a"));
        }
        return path;
    }

    /// <summary>An image-only PDF (no text layer), as a scanner writes it.</summary>
    public string ImageOnlyPdf(string name, string source, int dpi = 200)
    {
        using var page = Decode(source);
        Assert.Equal(0, Leptonica.pixWriteMemPdf(out var data, out var size, page, dpi, 0));
        return Write(name, Leptonica.TakeBuffer(data, size));
    }

    /// <summary>The page re-encoded in another format (Leptonica IFF_* code), optionally converted first.</summary>
    public string Reencode(string name, string source, int format, Func<Pix, Pix>? convert = null)
    {
        using var page = Decode(source);
        using var converted = convert is null ? null : convert(page);
        Assert.Equal(0, Leptonica.pixWriteMem(out var data, out var size, converted ?? page, format));
        return Write(name, Leptonica.TakeBuffer(data, size));
    }

    public static Pix ToPalette(Pix page) => Pix.Required(Leptonica.pixConvertTo8(page, 1), "pixConvertTo8");

    public static Pix ToRgb(Pix page) => Pix.Required(Leptonica.pixConvertTo32(page), "pixConvertTo32");

    public string Truncated(string name, string source, double keep)
    {
        var bytes = File.ReadAllBytes(source);
        return Write(name, bytes.AsSpan(0, (int)(bytes.Length * keep)));
    }

    /// <summary>A valid PNG whose header declares <paramref name="width"/>x<paramref name="height"/> pixels (60-odd bytes).</summary>
    public string PngDeclaring(string name, int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (grey), compression, filter and interlace 0
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR"u8, ihdr);
        WriteChunk(png, "IDAT"u8, [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        WriteChunk(png, "IEND"u8, []);
        return Write(name, png.ToArray());
    }

    private static void WriteChunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, ~Crc32(Crc32(0xFFFFFFFF, type), data));
        png.Write(word);
    }

    /// <summary>PNG's CRC-32 (ISO-HDLC polynomial), bit by bit: 60 bytes need no table.</summary>
    private static uint Crc32(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return crc;
    }

    /// <summary>A PDF written by hand from these objects (numbered from 1, the first the catalog), with a correct xref
    /// table: the odd PDFs no dataset ships (page boxes, fonts, thousands of pages).</summary>
    public static byte[] HandWrittenPdf(IReadOnlyList<string> objects)
    {
        var sb = new System.Text.StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        foreach (var body in objects)
        {
            offsets.Add(sb.Length);
            sb.Append($"{offsets.Count} 0 obj\n{body}\nendobj\n");
        }
        var xref = sb.Length;
        sb.Append($"xref\n0 {offsets.Count + 1}\n0000000000 65535 f \n");
        foreach (var o in offsets) sb.Append($"{o:D10} 00000 n \n");
        sb.Append($"trailer\n<< /Size {offsets.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return System.Text.Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>Runs mutool (mupdf-tools) to build PDFs no dataset ships: encrypted, merged.</summary>
    public static void Mutool(params string[] args)
    {
        var info = new ProcessStartInfo("mutool") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"mutool {string.Join(' ', args)} failed: {stderr}");
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
