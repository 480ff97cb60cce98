using System.Buffers.Binary;
using System.Text;
using Dsdc.Ingestion;
using Dsdc.Pipeline;

namespace Dsdc.Tests.Infrastructure;

/// <summary>Real documents from the shared datasets, and bad or unusual files that the tests make themselves.</summary>
public static class Fixtures
{
    public static string DatasetsRoot =>
        Environment.GetEnvironmentVariable("DSDC_TEST_DATASETS") is { Length: > 0 } root ? root
            : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../shared/datasets"));

    /// <summary>Labelled documents of the datasets (never copied into the repository), in a stable order.</summary>
    public static IReadOnlyList<(string Path, int Label)> Labelled()
    {
        if (!Directory.Exists(DatasetsRoot))
            throw new InvalidOperationException($"the labelled datasets are not at {DatasetsRoot}; set DSDC_TEST_DATASETS");
        return LabelledCorpus.Enumerate(DatasetsRoot).ToList();
    }

    public static (string Path, int Label) First(string extension, int? label = null) =>
        Labelled().First(d => d.Path.EndsWith(extension, StringComparison.OrdinalIgnoreCase) && (label is null || d.Label == label));

    /// <summary>A PNG whose header declares <paramref name="width"/> x <paramref name="height"/> pixels but holds no image data.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 0; // 8-bit greyscale
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(ms, "IHDR", ihdr);
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        Span<byte> c = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, Crc32([.. typeBytes, .. data]));
        s.Write(c);
    }

    /// <summary>A white 8-bit greyscale page of 600x800 pixels, as a real (decodable) PNG.</summary>
    public static byte[] PngBlankPage(int width = 600, int height = 800)
    {
        var white = new byte[width * height];
        white.AsSpan().Fill(255);
        return PngGrey(width, height, white);
    }

    /// <summary>
    /// A page ruled in squares of <paramref name="step"/> pixels and strewn with <paramref name="specks"/> small blots (graph
    /// paper with marks on it): Tesseract's layout analysis (finding columns and blocks, which its deadline does not reach)
    /// takes seconds to minutes on such pages, growing faster than their size (2550x3300: 8-13 s; 5100x6600: 210-250 s on
    /// 2 cores).
    /// </summary>
    public static byte[] PngRuledPageWithSpecks(int width, int height, int step, int specks, int seed = 3)
    {
        var pixels = new byte[width * height];
        pixels.AsSpan().Fill(255);
        for (var y = 0; y < height; y += step) pixels.AsSpan(y * width, width).Clear();
        for (var x = 0; x < width; x += step)
            for (var y = 0; y < height; y++) pixels[y * width + x] = 0;
        var random = new Random(seed);
        for (var i = 0; i < specks; i++)
        {
            var (x, y) = (random.Next(width - 6), random.Next(height - 8));
            var (h, w) = (random.Next(3, 8), random.Next(2, 6));
            for (var dy = 0; dy < h; dy++) pixels.AsSpan((y + dy) * width + x, w).Clear();
        }
        return PngGrey(width, height, pixels);
    }

    /// <summary>An 8-bit greyscale PNG of <paramref name="pixels"/> (row after row).</summary>
    public static byte[] PngGrey(int width, int height, byte[] pixels)
    {
        var raw = new byte[(width + 1) * height];
        for (var y = 0; y < height; y++)
            pixels.AsSpan(y * width, width).CopyTo(raw.AsSpan(y * (width + 1) + 1));
        using var compressed = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            z.Write(raw);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(ms, "IHDR", ihdr);
        WriteChunk(ms, "IDAT", compressed.ToArray());
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>An uncompressed 8-bit greyscale TIFF with <paramref name="pages"/> pages, each a different pattern.</summary>
    public static byte[] MultiPageTiff(int pages, int width = 320, int height = 400)
    {
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("II"u8); w.Write((ushort)42); w.Write(0u); // header; first IFD offset patched below
        var previousLink = 4L;
        for (var p = 0; p < pages; p++)
        {
            var pixelsAt = (uint)ms.Position;
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                    w.Write((byte)(((x / (8 + p * 8)) + (y / 16)) % 2 == 0 ? 255 : 40));
            if (ms.Position % 2 == 1) w.Write((byte)0);
            var ifdAt = (uint)ms.Position;
            ms.Position = previousLink; w.Write(ifdAt); ms.Position = ifdAt;
            (ushort Tag, ushort Type, uint Value)[] entries =
            [
                (256, 4, (uint)width), (257, 4, (uint)height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                (273, 4, pixelsAt), (277, 3, 1), (278, 4, (uint)height), (279, 4, (uint)(width * height)),
            ];
            w.Write((ushort)entries.Length);
            foreach (var (tag, type, value) in entries)
            {
                w.Write(tag); w.Write(type); w.Write(1u);
                if (type == 3) { w.Write((ushort)value); w.Write((ushort)0); } else w.Write(value);
            }
            previousLink = ms.Position;
            w.Write(0u);
        }
        return ms.ToArray();
    }

    /// <summary>Converts an image into a PDF page without a text layer, with MuPDF's command-line tool.</summary>
    public static string ImageToPdf(string image, string pdf)
    {
        var info = new System.Diagnostics.ProcessStartInfo("mutool") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "convert", "-o", pdf, image }) info.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(info)!;
        p.WaitForExit(60_000);
        if (p.ExitCode != 0 || !File.Exists(pdf))
            throw new InvalidOperationException($"mutool convert failed: {p.StandardError.ReadToEnd()}");
        return pdf;
    }
}
