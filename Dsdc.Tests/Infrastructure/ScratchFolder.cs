namespace Dsdc.Tests.Infrastructure;

/// <summary>
/// A folder of its own under the system's temporary folder, removed with everything in it when disposed. The removal is
/// best effort: a child process still writing there must not replace the test's own failure with an IOException.
/// </summary>
public sealed class ScratchFolder(string prefix) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the system's temporary-file cleaning.
        }
    }
}
