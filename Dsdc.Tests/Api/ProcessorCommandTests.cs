using Dsdc.Shared.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Api;

/// <summary><c>evaluate</c> and <c>bench-predict</c> on a few real pages, through the document processor, with the served model.</summary>
[Collection(ApiCollection.Name)]
public sealed class ProcessorCommandTests(ApiApp app) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsdc-commands-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Copies of trained pages (already stored, so the benchmark's predictions add no new document) in class folders.</summary>
    private string LabelledFolder()
    {
        foreach (var (path, label) in app.Known.GroupBy(k => k.Label).Take(2).SelectMany(g => g.Take(2)))
        {
            var folder = Directory.CreateDirectory(Path.Combine(_dir, $"{label}_{Dsdc.Shared.DocumentClasses.NameOf(label).Replace(' ', '-')}"));
            File.Copy(path, Path.Combine(folder.FullName, Path.GetFileName(path)), overwrite: true);
        }
        return _dir;
    }

    private ICliCommand Command(string name) => app.Services.GetServices<ICliCommand>().Single(c => c.Name == name);

    /// <summary><c>bench-predict</c> lives in Dsdc.Bench, whose host adds it to the app's services.</summary>
    private ICliCommand BenchPredict() => ActivatorUtilities.CreateInstance<Dsdc.Inference.Api.PredictBenchmarkCommand>(app.Services);

    [Fact]
    public async Task EvaluateAndBenchPredictRunTheProcessorOnRealPages()
    {
        var dir = LabelledFolder();

        Assert.Equal(0, await Command("evaluate").RunAsync([dir, "--json"], Ct));
        Assert.Equal(0, await BenchPredict().RunAsync([dir, "--pages", "2", "--rounds", "1"], Ct));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
