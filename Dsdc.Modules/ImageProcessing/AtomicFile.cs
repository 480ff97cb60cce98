using System.Runtime.InteropServices;

namespace Dsdc.ImageProcessing;

/// <summary>Writes a file so that, whatever happens, the path holds either the old content or the complete new one,
/// and once it returns, the new one, power loss included.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        CreateFolder(folder);
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
            // The rename itself durable too: a row written next (a processed page's lineage) never points at nothing
            // after a power loss.
            SyncFolder(folder);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Makes the renames into <paramref name="folder"/> durable (fsync of the folder itself): after a power loss the names
    /// point at the complete files a database row written next relies on, not at nothing. Linux only; elsewhere, and on
    /// a file system that cannot sync a folder (EINVAL, ENOTSUP: some network and FUSE mounts), a no-op, as PostgreSQL
    /// does for its own folders.
    /// </summary>
    public static void SyncFolder(string folder)
    {
        if (!OperatingSystem.IsLinux()) return;
        // O_RDONLY alone: a folder opens read-only on every architecture (O_DIRECTORY's value differs between them).
        var fd = Open(Path.GetFullPath(folder), 0);
        if (fd < 0) throw new IOException($"cannot open {folder} to sync it: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (Fsync(fd) != 0 && Marshal.GetLastPInvokeError() is var errno && errno is not (Einval or Enotsup))
                throw new IOException($"cannot sync {folder}: errno {errno}");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Creates <paramref name="folder"/> and any missing parents, syncing the parent of each one it made.</summary>
    public static void CreateFolder(string folder)
    {
        var full = Path.GetFullPath(folder);
        if (Directory.Exists(full)) return;
        var parent = Path.GetDirectoryName(full);
        if (parent is not null) CreateFolder(parent);
        Directory.CreateDirectory(full);
        if (parent is not null) SyncFolder(parent);
    }

    private const int Einval = 22, Enotsup = 95;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
