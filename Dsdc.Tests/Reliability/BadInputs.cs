using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Reliability;

/// <summary>Generators for the bad-input corpus: broken, hostile and odd files the datasets never ship.</summary>
internal static class BadInputs
{
    public static byte[] Truncate(string path, double fraction = 0.4)
    {
        var b = File.ReadAllBytes(path);
        return b[..Math.Max(16, (int)(b.Length * fraction))];
    }

    /// <summary>The file's signature and first bytes kept, the rest replaced with noise.</summary>
    public static byte[] Scramble(string path, int keep)
    {
        var b = File.ReadAllBytes(path);
        var rng = new Random(42);
        for (var i = keep; i < b.Length; i++) b[i] = (byte)rng.Next(256);
        return b;
    }

    /// <summary>A little-endian TIFF whose one IFD declares <paramref name="width"/> x <paramref name="height"/> and holds 16 bytes.</summary>
    public static byte[] TiffHeaderOnly(uint width, uint height)
    {
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("II"u8); w.Write((ushort)42); w.Write(8u);
        (ushort Tag, ushort Type, uint Value)[] entries =
            [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 200), (277, 3, 1), (278, 4, height), (279, 4, 16)];
        w.Write((ushort)entries.Length);
        foreach (var (tag, type, value) in entries)
        {
            w.Write(tag); w.Write(type); w.Write(1u);
            if (type == 3) { w.Write((ushort)value); w.Write((ushort)0); } else w.Write(value);
        }
        w.Write(0u);
        while (ms.Length < 216) w.Write((byte)0);
        return ms.ToArray();
    }

    /// <summary>A baseline JPEG start (SOI, SOF0) declaring a huge frame, then EOI.</summary>
    public static byte[] JpegHeaderOnly(ushort width, ushort height)
    {
        var sof = new byte[] { 0xFF, 0xC0, 0, 11, 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0 };
        return [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, .. sof, 0xFF, 0xD9];
    }

    /// <summary>A real JPEG whose frame header (SOF0-2) is patched to declare <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static byte[] JpegDeclaring(string path, ushort width, ushort height)
    {
        var b = File.ReadAllBytes(path);
        for (var i = 2; i + 9 < b.Length; i++)
        {
            if (b[i] != 0xFF || b[i + 1] is not (0xC0 or 0xC1 or 0xC2)) continue;
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i + 5), height);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i + 7), width);
            return b;
        }
        throw new InvalidOperationException($"no frame header in {path}");
    }

    /// <summary>An 8-bit greyscale BMP (with palette); <paramref name="pixels"/> false leaves the pixel data out.</summary>
    public static byte[] Bmp(int width, int height, bool pixels = true)
    {
        var row = (width + 3) & ~3;
        var dataSize = pixels ? row * height : 0;
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("BM"u8); w.Write(14 + 40 + 1024 + dataSize); w.Write(0); w.Write(14 + 40 + 1024);
        w.Write(40); w.Write(width); w.Write(height); w.Write((short)1); w.Write((short)8); w.Write(0); w.Write(pixels ? row * height : 0);
        w.Write(2835); w.Write(2835); w.Write(256); w.Write(0);
        for (var i = 0; i < 256; i++) { w.Write((byte)i); w.Write((byte)i); w.Write((byte)i); w.Write((byte)0); }
        if (pixels) w.Write(Enumerable.Repeat((byte)255, dataSize).ToArray());
        return ms.ToArray();
    }

    /// <summary>A valid PDF of <paramref name="pages"/> tiny empty pages, written by hand (with a correct xref table).</summary>
    public static byte[] ManyPagePdf(int pages) => Dsdc.Tests.ImageProcessing.TestDocuments.HandWrittenPdf(
    [
        "<< /Type /Catalog /Pages 2 0 R >>",
        $"<< /Type /Pages /Count {pages} /Kids [{string.Join(' ', Enumerable.Range(3, pages).Select(n => $"{n} 0 R"))}] >>",
        .. Enumerable.Repeat("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>", pages),
    ]);

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int RenameBytes(byte[] from, byte[] to);

    /// <summary>Renames <paramref name="path"/> to a name made of raw bytes (not valid UTF-8), which .NET strings cannot express.</summary>
    public static void RenameToRawBytes(string path, byte[] rawName)
    {
        var parent = Encoding.UTF8.GetBytes(Path.GetDirectoryName(path)! + "/");
        byte[] from = [.. Encoding.UTF8.GetBytes(path), 0];
        byte[] to = [.. parent, .. rawName, 0];
        if (RenameBytes(from, to) != 0) throw new IOException($"rename failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// Files and symbolic links under <paramref name="root"/> except label.txt, reason.txt and .gitkeep, counted by
    /// find(1), which, unlike .NET, also sees inside folders whose names are not UTF-8.
    /// </summary>
    public static int CountEntries(string root)
    {
        if (!Directory.Exists(root)) return 0;
        var info = new System.Diagnostics.ProcessStartInfo("find") { RedirectStandardOutput = true };
        foreach (var a in new[] { root, "-mindepth", "1", "(", "-type", "f", "-o", "-type", "l", ")", "!", "-name", "label.txt",
                     "!", "-name", "reason.txt", "!", "-name", ".gitkeep", "-printf", "." })
            info.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(info)!;
        var dots = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return dots.Length;
    }
}
