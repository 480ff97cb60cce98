using Dsdc.Pipeline;
using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Infrastructure;

/// <summary>Real labelled pages of the datasets, dropped into an app's inbox and run through its whole pipeline.</summary>
public static class CorpusSeeder
{
    /// <summary>Up to <paramref name="perClass"/> files per class with one of <paramref name="extensions"/>; returns them.</summary>
    public static async Task<IReadOnlyList<(string Path, int Label)>> IngestLabelledAsync(
        IServiceProvider services, int perClass, params string[] extensions)
    {
        var paths = services.GetRequiredService<DsdcPaths>();
        var documents = Fixtures.Labelled()
            .Where(d => extensions.Contains(Path.GetExtension(d.Path).ToLowerInvariant()))
            .GroupBy(d => d.Label).SelectMany(g => g.Take(perClass)).ToList();
        var n = 0;
        foreach (var (path, label) in documents)
        {
            var dir = Path.Combine(paths.Inbox, $"seed{n++:D3}");
            Directory.CreateDirectory(dir);
            File.Copy(path, Path.Combine(dir, Path.GetFileName(path)));
            await File.WriteAllTextAsync(Path.Combine(dir, "label.txt"), label.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        await services.GetRequiredService<PipelineRunner>().RunUntilEmptyAsync(null, CancellationToken.None);
        return documents;
    }
}
