namespace Dsdc.Shared.Hosting;

/// <summary>
/// The folder that holds <c>appsettings.json</c>, <c>data/</c> and <c>models/</c>: the repository root when run from a
/// checkout (found by walking up to <c>Dsdc.sln</c>), otherwise the folder of the published binary.
/// <c>ASPNETCORE_CONTENTROOT</c> or <c>--contentRoot</c> still win, as usual.
/// </summary>
public static class ContentRoot
{
    public static string? Resolve()
    {
        if (Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT") is { Length: > 0 }) return null;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dsdc.sln")) && File.Exists(Path.Combine(dir.FullName, "appsettings.json")))
                return dir.FullName;
        }
        return File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")) ? AppContext.BaseDirectory : null;
    }
}
