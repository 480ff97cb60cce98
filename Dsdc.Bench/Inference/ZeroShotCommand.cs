using System.Globalization;
using System.Text.Json;
using Dsdc.Shared.Cli;
using Dsdc.Training;

namespace Dsdc.Inference;

/// <summary>
/// <c>zeroshot [--half development|holdout] [--confusion] [--json]</c>: the zero-shot model's accuracy and macro-F1 on
/// every labelled, embedded document (the stored OCR text, vector and page). Nothing is trained on them; the cues were
/// written with the development half in view, so the holdout half's figure is the one no choice was made on.
/// <c>--confusion</c> lists, per true class, where its documents went.
/// </summary>
internal sealed class ZeroShotCommand(TrainingDataLoader loader, ZeroShotServing zeroShot) : ICliCommand
{
    public string Name => "zeroshot";
    public string Usage => "[--half development|holdout] [--confusion] [--json]  accuracy of the zero-shot (cold start) model on the labelled documents";

    /// <summary>A fixed half of the documents (by a hash of the id) on which the zero-shot model's cues are developed; the
    /// other half (<c>--half holdout</c>) is never looked at while writing them.</summary>
    public static bool InDevelopmentHalf(string documentId) =>
        (System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(documentId))[0] & 1) == 0;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var docs = await loader.LoadAllAsync(ct);
        if (cli.Value("--half") is { } half)
        {
            if (half is not ("development" or "holdout"))
            {
                Console.Error.WriteLine($"--half must be development or holdout, not '{half}'.");
                return 2;
            }
            docs = docs.Where(d => InDevelopmentHalf(d.DocumentId) == (half == "development")).ToList();
        }
        if (docs.Count == 0)
        {
            Console.Error.WriteLine("No labelled, embedded document: ingest a labelled corpus first.");
            return 1;
        }
        var predictions = docs.Select(d => new OutOfFold(d.Label, zeroShot.Model.Predict(d.Inputs))).ToList();
        var metrics = ClassificationMetrics.Compute(docs.Select(d => d.Label).ToList(), predictions.Select(p => p.Predicted).ToList());
        if (cli.Flag("--json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                documents = docs.Count, accuracy = metrics.Accuracy, macroF1 = metrics.MacroF1,
                recall = metrics.PerClass.Where(c => c.Support > 0).ToDictionary(c => c.ClassName, c => c.Recall),
            }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
            return 0;
        }
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"zero-shot on {docs.Count} documents: accuracy {metrics.Accuracy.ToString("P1", inv)}, macro-F1 {metrics.MacroF1.ToString("F3", inv)} " +
            $"(chance {(1.0 / Dsdc.Shared.DocumentClasses.Count).ToString("P2", inv)})");
        foreach (var c in metrics.PerClass.Where(c => c.Support > 0))
        {
            Console.Write($"    {c.Label,2} {c.ClassName,-24} recall {c.Recall.ToString("P0", inv),5} of {c.Support}");
            if (cli.Flag("--confusion"))
                Console.Write("   -> " + string.Join(" ", predictions.Where(p => p.Truth == c.Label).GroupBy(p => p.Predicted)
                    .OrderByDescending(g => g.Count()).Select(g => $"{g.Key}:{g.Count()}")));
            Console.WriteLine();
        }
        return 0;
    }
}
