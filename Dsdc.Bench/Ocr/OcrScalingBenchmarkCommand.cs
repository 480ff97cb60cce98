using System.Diagnostics;
using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Ocr;

/// <summary>
/// <c>bench-ocr DIR [--pages N] [--minimum-dpi D | --extra-readings MODES]</c>: what <c>Ocr:MinimumDpi</c> or
/// <c>Ocr:ExtraReadings</c> costs and gives. The same raster pages (spread over the classes) are OCR'd by one engine in one
/// reading at the file's resolution and either scaled up to D dpi or read again in the extra modes, alternating page by
/// page (so load from other processes falls on both alike): time per page, Tesseract's mean confidence, and the share of
/// recognised words that are 3+ letters long (a rough measure of readable text; of the main reading).
/// </summary>
internal sealed class OcrScalingBenchmarkCommand : ICliCommand
{
    public string Name => "bench-ocr";
    public string Usage => "DIR [--pages N] [--minimum-dpi D | --extra-readings MODES]  OCR time and confidence at the file's resolution vs scaled up, or one reading vs more";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (args.Count == 0 || !Directory.Exists(args[0]))
        {
            Console.Error.WriteLine("bench-ocr: give a folder of labelled pages (class folders <index>_<name>)");
            return 2;
        }
        var cli = new Training.CliArgs(args);
        var readings = cli.Value("--extra-readings");
        var minimumDpi = readings is null ? cli.Int("--minimum-dpi") ?? 200 : 0;
        var other = readings is null ? $"scaled to {minimumDpi} dpi" : $"read again in modes {readings}";
        var pages = LabelledCorpus.Enumerate(args[0])
            .Where(d => Path.GetExtension(d.Path).ToLowerInvariant() is ".tif" or ".tiff" or ".png" or ".jpg" or ".jpeg")
            .GroupBy(d => d.Label).SelectMany(g => g.Take(3)).Select(d => d.Path).Take(cli.Int("--pages") ?? 48).ToList();
        using var plain = Host(0, "");
        using var scaled = Host(minimumDpi, readings ?? "");
        var inspector = plain.Services.GetRequiredService<IDocumentInspector>();
        var results = new Dictionary<string, List<(double Ms, float Confidence, double Words)>> { ["plain"] = [], ["scaled"] = [] };
        Console.WriteLine($"# bench-ocr on {pages.Count} pages, one engine, one reading vs {other}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        for (var i = 0; i < pages.Count; i++)
        {
            var format = inspector.Inspect(pages[i]).Format;
            // Alternate which goes first.
            var order = i % 2 == 0 ? new[] { ("plain", plain), ("scaled", scaled) } : [("scaled", scaled), ("plain", plain)];
            foreach (var (name, host) in order)
            {
                var watch = Stopwatch.StartNew();
                var text = await host.Services.GetRequiredService<ITextExtractor>().ExtractAsync(pages[i], format, ct);
                var tokens = text.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var words = tokens.Length == 0 ? 0 : tokens.Count(t => t.Count(char.IsLetter) >= 3 && t.All(c => char.IsLetter(c) || char.IsPunctuation(c))) / (double)tokens.Length;
                if (i > 0) results[name].Add((watch.Elapsed.TotalMilliseconds, text.MeanConfidence ?? 0, words)); // the first page warms up
            }
        }
        foreach (var (name, r) in results)
        {
            var ms = r.Select(x => x.Ms).Order().ToList();
            Console.WriteLine($"{name,-7} ({(name == "plain" ? "one reading, file's resolution" : other)}): {ms.Sum() / 1000:F1} s for {r.Count} pages, " +
                $"p50 {ms[ms.Count / 2]:F0} ms, mean confidence {r.Average(x => x.Confidence):F1}, word-like tokens {r.Average(x => x.Words):P1}");
        }
        Console.WriteLine($"time ratio scaled / plain: {results["scaled"].Sum(x => x.Ms) / results["plain"].Sum(x => x.Ms):F2}");
        return 0;
    }

    private static IHost Host(int minimumDpi, string extraReadings)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ocr:MaxConcurrency"] = "1",
            ["Ocr:MinimumDpi"] = minimumDpi.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Ocr:ExtraReadings"] = extraReadings,
        });
        builder.AddImageProcessingModule();
        builder.AddOcrModule();
        return builder.Build();
    }
}
