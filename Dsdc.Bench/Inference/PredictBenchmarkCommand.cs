using System.Diagnostics;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Inference.Api;

/// <summary>
/// <c>bench-predict DIR [--pages N] [--rounds N]</c>: prediction latency (p50, p95) at concurrency 1 and 4 through the
/// same service the API calls, beside the bare stage costs measured in the same run on the same pages: the OCR engine,
/// the image preprocessing, the encoder, the region features when the served model reads them, and the classifier on a
/// vector. Needs a promoted model.
/// </summary>
internal sealed class PredictBenchmarkCommand(IServiceScopeFactory scopes, IDocumentClassifier classifier, DocumentProcessor processor)
    : ICliCommand
{
    public string Name => "bench-predict";
    public string Usage => "DIR [--pages N] [--rounds N]  measure prediction latency against the bare stage costs";

    private PredictionService predictions = null!;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        // The prediction service is scoped (as for a request); the benchmark is one long "request".
        await using var scope = scopes.CreateAsyncScope();
        predictions = scope.ServiceProvider.GetRequiredService<PredictionService>();
        if (args.Count == 0 || !Directory.Exists(args[0]))
        {
            Console.Error.WriteLine("bench-predict: give a folder of labelled pages (class folders <index>_<name>)");
            return 2;
        }
        var cli = new Training.CliArgs(args);
        int Option(string name, int fallback) => cli.Int(name) ?? fallback;
        if (!await predictions.HasModelAsync(ct))
        {
            Console.Error.WriteLine("bench-predict: no model is promoted (run `train` first)");
            return 1;
        }
        // Scanned pages (what the API mostly sees), spread over the classes, in a fixed order.
        var pages = LabelledCorpus.Enumerate(args[0])
            .Where(d => Path.GetExtension(d.Path).ToLowerInvariant() is ".tif" or ".tiff" or ".png")
            .GroupBy(d => d.Label).SelectMany(g => g.Take(2)).Select(d => d.Path).Take(Option("--pages", 16)).ToList();
        var rounds = Option("--rounds", 2);
        Console.WriteLine($"# bench-predict on {Environment.ProcessorCount} cores, {pages.Count} pages, model run {classifier.ModelRunId}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

        foreach (var page in pages.Take(2)) await PredictAsync(page, ct); // warm-up: engines, sessions, connections

        var bare = new List<double>();
        foreach (var page in pages) bare.Add(await BareAsync(page, ct));
        var c1 = await LoadAsync(pages, 1, rounds, ct);
        var c4 = await LoadAsync(pages, 4, rounds, ct);

        var bareP50 = Percentile(bare, 0.5);
        Console.WriteLine($"bare stage costs per page (OCR + preprocessing + encoder + region features + classifier): p50 {bareP50:F0} ms, p95 {Percentile(bare, 0.95):F0} ms");
        foreach (var (n, r) in new[] { (1, c1), (4, c4) })
            Console.WriteLine($"predict at concurrency {n}: p50 {Percentile(r.Latencies, 0.5):F0} ms, p95 {Percentile(r.Latencies, 0.95):F0} ms, " +
                $"{r.Throughput:F2} pages/s ({r.Latencies.Count} requests)");
        Console.WriteLine($"ratio p50(c=1) / bare p50: {Percentile(c1.Latencies, 0.5) / bareP50:F2} (target <= 1.15)");
        Console.WriteLine($"throughput c=4 / c=1: {c4.Throughput / c1.Throughput:F2} (target >= 1.8)");
        return 0;
    }

    private Task<PredictionOutcome> PredictAsync(string page, CancellationToken ct) =>
        predictions.ClassifyAsync(async (target, token) =>
        {
            await using var source = File.OpenRead(page);
            await source.CopyToAsync(target, token);
        }, Path.GetFileName(page), "bench-predict", ct);

    /// <summary>
    /// Each step of the document processor on its own, one after the other (the steps a prediction runs, the cleaned
    /// text encoded as in production), then the classifier on the vector: what a prediction cannot avoid doing.
    /// </summary>
    private async Task<double> BareAsync(string page, CancellationToken ct)
    {
        var info = processor.Inspect(page);
        var dir = Directory.CreateTempSubdirectory("dsdc-bench-");
        try
        {
            var watch = Stopwatch.StartNew();
            var text = await processor.ExtractTextAsync(page, info.Format, ct);
            var png = Path.Combine(dir.FullName, "page.png");
            processor.ProcessImage(page, info.Format, png);
            var clean = DocumentProcessor.Clean(text.Value.Text);
            var vector = processor.Encode(processor.ReadProcessedImage(png), clean.Value, ct);
            if (classifier.ServedManifest?.Views?.Any(v => v.View == Training.ViewKinds.Regions) == true)
                processor.EncodeRegions(page, info.Format, ct);
            await classifier.ClassifyEmbeddingAsync(vector.Value, ct);
            return watch.Elapsed.TotalMilliseconds;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private async Task<(List<double> Latencies, double Throughput)> LoadAsync(List<string> pages, int concurrency, int rounds, CancellationToken ct)
    {
        var work = new System.Collections.Concurrent.ConcurrentQueue<string>(Enumerable.Repeat(pages, rounds).SelectMany(p => p));
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (work.TryDequeue(out var page))
            {
                var watch = Stopwatch.StartNew();
                await PredictAsync(page, ct);
                latencies.Add(watch.Elapsed.TotalMilliseconds);
            }
        }, ct)));
        return (latencies.ToList(), latencies.Count / total.Elapsed.TotalSeconds);
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
    }
}
