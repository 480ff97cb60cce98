using System.Globalization;
using System.Text.Json;
using Dsdc.Shared.Cli;
using Dsdc.Training;

namespace Dsdc.Inference;

/// <summary>
/// <c>zeroshot [--json]</c>: the zero-shot model's accuracy and macro-F1 on every labelled, embedded document (the
/// stored OCR text, vector and page). Nothing is trained, so every document is unseen: an honest figure.
/// </summary>
internal sealed class ZeroShotCommand(TrainingDataLoader loader, ZeroShotServing zeroShot) : ICliCommand
{
    public string Name => "zeroshot";
    public string Usage => "[--json]  accuracy of the zero-shot (cold start) model on the labelled documents";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var docs = await loader.LoadAllAsync(ct);
        if (docs.Count == 0)
        {
            Console.Error.WriteLine("No labelled, embedded document: ingest a labelled corpus first.");
            return 1;
        }
        var predictions = docs.Select(d => new OutOfFold(d.Label, zeroShot.Model.Predict(d.Inputs))).ToList();
        var metrics = ClassificationMetrics.Compute(docs.Select(d => d.Label).ToList(), predictions.Select(p => p.Predicted).ToList());
        if (args.Contains("--json"))
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
            Console.WriteLine($"    {c.Label,2} {c.ClassName,-24} recall {c.Recall.ToString("P0", inv),5} of {c.Support}");
        return 0;
    }
}
