using System.Runtime.InteropServices;
using System.Text;

namespace Dsdc.Ingestion;

/// <summary>
/// Directory entries whose names are not valid UTF-8. .NET decodes such a name with U+FFFD and then cannot open it by
/// that string, so these entries are found and renamed here by their raw bytes (libc readdir/rename, Linux).
/// </summary>
internal static partial class RawNames
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    /// <summary>The raw names in <paramref name="folder"/> that do not decode as UTF-8.</summary>
    public static List<byte[]> Undecodable(string folder)
    {
        var found = new List<byte[]>();
        if (!OperatingSystem.IsLinux()) return found;
        var dir = OpenDir(folder);
        if (dir == 0) return found;
        try
        {
            nint entry;
            while ((entry = ReadDir(dir)) != 0)
            {
                // struct dirent (glibc, 64-bit): d_ino 8, d_off 8, d_reclen 2, d_type 1, then d_name.
                var name = ReadName(entry + 19);
                try { Strict.GetString(name); }
                catch (DecoderFallbackException) { found.Add(name); }
            }
        }
        finally
        {
            CloseDir(dir);
        }
        return found;
    }

    /// <summary>Renames the raw entry <paramref name="name"/> of <paramref name="folder"/> to <paramref name="target"/> (a full path).</summary>
    public static void Rename(string folder, byte[] name, string target)
    {
        byte[] from = [.. Encoding.UTF8.GetBytes(folder.TrimEnd('/') + "/"), .. name, 0];
        byte[] to = [.. Encoding.UTF8.GetBytes(target), 0];
        if (RenameNative(from, to) != 0)
            throw new IOException($"could not rename the entry {Hex(name)} of {folder}: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// rename(2) of the entry itself: a symbolic link moves as a link whether its target is a file, a folder or missing
    /// (File.Move refuses links to folders and dangling links).
    /// </summary>
    public static void RenameEntry(string from, string to)
    {
        if (RenameNative([.. Encoding.UTF8.GetBytes(from), 0], [.. Encoding.UTF8.GetBytes(to), 0]) != 0)
            throw new IOException($"could not rename {from} to {to}: errno {Marshal.GetLastPInvokeError()}");
    }

    public static string Hex(byte[] name) => Convert.ToHexStringLower(name.AsSpan(0, Math.Min(name.Length, 60)));

    private static unsafe byte[] ReadName(nint p)
    {
        var span = new ReadOnlySpan<byte>((void*)p, 256);
        var end = span.IndexOf((byte)0);
        return span[..(end < 0 ? 255 : end)].ToArray();
    }

    [LibraryImport("libc", EntryPoint = "opendir", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint OpenDir(string path);

    [LibraryImport("libc", EntryPoint = "readdir")]
    private static partial nint ReadDir(nint dir);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(nint dir);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static partial int RenameNative(byte[] from, byte[] to);
}
