using System.Globalization;
using System.Text.Json;
using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared.Cli;
using Dsdc.Training;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>
/// <c>evaluate DIR [--json]</c>: the full prediction path on every document under DIR whose nearest ancestor folder is
/// named <c>&lt;index&gt;_&lt;name&gt;</c> (its true class); accuracy, macro-F1, confusion matrix.
/// </summary>
internal sealed class EvaluateCommand(IDocumentClassifier classifier, IOptions<InferenceOptions> options) : ICliCommand
{
    public string Name => "evaluate";
    public string Usage => "DIR [--json]  accuracy, macro-F1 and confusion matrix of the champion on a labelled folder";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var json = args.Contains("--json");
        var dir = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (dir is null || !Directory.Exists(dir))
        {
            Console.Error.WriteLine($"Usage: evaluate {Usage}" + (dir is null ? "" : $"\n{dir} is not a folder"));
            return 2;
        }
        if (await classifier.ReloadAsync(ct) is not { } runId)
        {
            Console.Error.WriteLine("No model is promoted yet: run `train` first.");
            return 3;
        }
        var files = LabelledCorpus.Enumerate(dir).ToList();
        var results = new (int Truth, int? Predicted, string? Error)[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.EvaluateParallelism, CancellationToken = ct }, async (i, token) =>
            {
                try
                {
                    results[i] = (files[i].Label, (await classifier.ClassifyFileAsync(files[i].Path, token)).Label, null);
                }
                catch (InvalidDocumentException ex)
                {
                    results[i] = (files[i].Label, null, ex.Message);
                }
            });
        var scored = results.Where(r => r.Predicted is not null).ToList();
        var metrics = ClassificationMetrics.Compute(scored.Select(r => r.Truth).ToList(), scored.Select(r => r.Predicted!.Value).ToList());
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                accuracy = metrics.Accuracy, macroF1 = metrics.MacroF1, documents = files.Count, evaluated = scored.Count,
                unreadable = files.Count - scored.Count, modelRunId = runId,
                perClass = metrics.PerClass.Where(c => c.Support > 0 || c.Precision > 0), confusion = metrics.Confusion,
            }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        else
            Print(metrics, files.Count, runId);
        return 0;
    }

    private static void Print(ClassificationMetrics m, int files, long runId)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"Model run {runId}: {m.Count} of {files} documents evaluated");
        Console.WriteLine($"accuracy {m.Accuracy.ToString("P2", inv)}, macro-F1 {m.MacroF1.ToString("F4", inv)}");
        Console.WriteLine("confusion matrix (rows = true class, columns = predicted 0-15):");
        Console.WriteLine("      " + string.Concat(Enumerable.Range(0, m.Confusion.Length).Select(c => $"{c,4}")));
        for (var t = 0; t < m.Confusion.Length; t++)
            if (m.PerClass[t].Support > 0)
                Console.WriteLine($"{t,4}  " + string.Concat(m.Confusion[t].Select(v => $"{v,4}")) +
                    $"   {m.PerClass[t].ClassName} recall {m.PerClass[t].Recall.ToString("P0", inv)}");
    }
}
