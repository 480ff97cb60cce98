using System.Text;
using Dsdc.Shared;

namespace Dsdc.Ingestion;

/// <summary>Reads <c>label.txt</c>: one integer 0-15 (the class index), surrounding white space allowed.</summary>
internal static class LabelFile
{
    public const string Name = "label.txt";
    private const int MaxBytes = 64;

    public static int Read(string path)
    {
        var info = new FileInfo(path);
        // Never opened when empty: a named pipe's length is 0 too, and opening it for reading would block for good.
        if (info.Length == 0)
            throw new RejectionException("invalid-label", "label.txt is empty (or not a regular file); it must hold one class index 0-15");
        if (info.Length > MaxBytes)
            throw new RejectionException("invalid-label", $"label.txt is {info.Length} bytes; it must hold one class index 0-15");
        var bytes = File.ReadAllBytes(path);
        var span = bytes.AsSpan();
        if (span.StartsWith(Encoding.UTF8.Preamble)) span = span[Encoding.UTF8.Preamble.Length..];
        var text = Encoding.ASCII.GetString(span).Trim();
        if (span.ToArray().Any(b => b > 0x7F) || text.Length is 0 or > 2 || !text.All(char.IsAsciiDigit))
            throw new RejectionException("invalid-label", $"label.txt holds '{Printable(span)}'; it must hold one class index 0-15");
        var label = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        if (!DocumentClasses.IsValid(label))
            throw new RejectionException("invalid-label", $"label.txt holds {label}; class indexes go from 0 to 15");
        return label;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (var b in bytes[..Math.Min(bytes.Length, 24)])
            sb.Append(b is >= 0x20 and < 0x7F ? (char)b : $"\\x{b:x2}");
        return sb.ToString().Trim();
    }
}
