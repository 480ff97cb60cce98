using System.Runtime.InteropServices;

namespace Dsdc.ImageProcessing;

/// <summary>Writes a file so that, whatever happens, the path holds either the old content or the complete new one.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        // Same folder, so the rename stays on one file system and is atomic.
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Makes the renames into <paramref name="folder"/> durable (fsync of the folder itself): after a power loss the names
    /// point at the complete files a database row written next relies on, not at nothing. Linux only; elsewhere a no-op.
    /// </summary>
    public static void SyncFolder(string folder)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = Open(Path.GetFullPath(folder), ReadOnlyDirectory);
        if (fd < 0) throw new IOException($"cannot open {folder} to sync it: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"cannot sync {folder}: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY (Linux)

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
