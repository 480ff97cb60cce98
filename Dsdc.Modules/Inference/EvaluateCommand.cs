using System.Globalization;
using System.Text.Json;
using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Shared.Cli;
using Dsdc.Training;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>One document of a labelled folder as the served model answered it (<see cref="Predicted"/> null: unreadable).</summary>
public sealed record EvaluatedDocument(string Path, int Truth, int? Predicted, float[]? Probabilities, bool NeedsReview, string? Error);

/// <summary>
/// What the served model does on a labelled folder it never trained on: accuracy and macro-F1, whether its probabilities
/// can be trusted there (log-loss, expected calibration error), and what its review flag buys: how many answers ask for a
/// person and how accurate the others are.
/// </summary>
public sealed record FolderEvaluation(long? ModelRunId, bool ZeroShot, double? ReviewThreshold, IReadOnlyList<EvaluatedDocument> Documents)
{
    public IReadOnlyList<EvaluatedDocument> Scored { get; } = Documents.Where(d => d.Predicted is not null).ToList();

    public ClassificationMetrics Metrics => ClassificationMetrics.Compute(Scored.Select(d => d.Truth).ToList(), Scored.Select(d => d.Predicted!.Value).ToList());

    private IReadOnlyList<OutOfFold> Answers => Scored.Select(d => new OutOfFold(d.Truth, d.Probabilities!)).ToList();

    public double LogLoss => Calibration.LogLoss(Answers);
    public double Ece => Calibration.ExpectedCalibrationError(Answers);
    public int NeedingReview => Scored.Count(d => d.NeedsReview);

    /// <summary>Accuracy of the answers that need no review (null when every answer needs one).</summary>
    public double? AccuracyWithoutReview => AccuracyOf(Scored.Where(d => !d.NeedsReview));

    /// <summary>Accuracy of the answers flagged for review (null when none is).</summary>
    public double? AccuracyNeedingReview => AccuracyOf(Scored.Where(d => d.NeedsReview));

    private static double? AccuracyOf(IEnumerable<EvaluatedDocument> docs)
    {
        var list = docs.ToList();
        return list.Count == 0 ? null : list.Average(d => d.Predicted == d.Truth ? 1.0 : 0.0);
    }

    /// <summary>Runs the full prediction path on every document under <paramref name="dir"/> under a folder that names its
    /// class (<see cref="Ingestion.LabelledCorpus"/>); an unreadable file is counted, not scored.</summary>
    public static async Task<FolderEvaluation> RunAsync(IDocumentClassifier classifier, string dir, int parallelism, CancellationToken ct)
    {
        // The model that serves now: the champion, or the zero-shot model when none is loaded (or the champion cannot be).
        await Api.PromotionServing.TryReloadAsync(classifier, ct);
        var served = classifier.ServedChampion;
        var (runId, threshold) = (served?.RunId, served?.Manifest.ReviewThreshold);
        var files = LabelledCorpus.Enumerate(dir).ToList();
        var results = new EvaluatedDocument[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct }, async (i, token) =>
            {
                try
                {
                    var c = await classifier.ClassifyFileAsync(files[i].Path, token);
                    results[i] = new EvaluatedDocument(files[i].Path, files[i].Label, c.Label, c.Probabilities.ToArray(), c.NeedsReview, null);
                }
                catch (Exception ex) when (ex is InvalidDocumentException or IOException or UnauthorizedAccessException)
                {
                    // Not a document, or a file that cannot be read (removed meanwhile, no permission): counted, not scored.
                    results[i] = new EvaluatedDocument(files[i].Path, files[i].Label, null, null, false, ex.Message);
                }
            });
        return new FolderEvaluation(runId, runId is null, threshold, results);
    }
}

/// <summary>
/// <c>evaluate DIR [--json]</c>: the served model (the champion, or the zero-shot model before any training) on every
/// document under DIR under a folder that names its class (its true class: <c>&lt;index&gt;_&lt;name&gt;</c> or the class's name):
/// accuracy, macro-F1, calibration, the review flag's effect and the confusion matrix.
/// </summary>
internal sealed class EvaluateCommand(IDocumentClassifier classifier, IOptions<InferenceOptions> options) : ICliCommand
{
    public string Name => "evaluate";
    public IReadOnlyList<string> Options => ["--json"];
    public string Usage => "DIR [--json]  accuracy, macro-F1, calibration, review rate and confusion matrix of the served model on a labelled folder";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var json = args.Contains("--json");
        var dir = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (dir is null || !Directory.Exists(dir))
        {
            Console.Error.WriteLine($"Usage: evaluate {Usage}" + (dir is null ? "" : $"\n{dir} is not a folder"));
            return 2;
        }
        if (!await ServedModelCheck.ReadyAsync(classifier, ct)) return 3;
        var e = await FolderEvaluation.RunAsync(classifier, dir, options.Value.EvaluateParallelism, ct);
        var m = e.Metrics;
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                accuracy = m.Accuracy, macroF1 = m.MacroF1, documents = e.Documents.Count, evaluated = e.Scored.Count,
                unreadable = e.Documents.Count - e.Scored.Count, modelRunId = e.ModelRunId, zeroShot = e.ZeroShot,
                logLoss = Finite(e.LogLoss), ece = Finite(e.Ece), reviewThreshold = e.ReviewThreshold, needingReview = e.NeedingReview,
                accuracyWithoutReview = e.AccuracyWithoutReview, accuracyNeedingReview = e.AccuracyNeedingReview,
                perClass = m.PerClass.Where(c => c.Support > 0 || c.Precision > 0), confusion = m.Confusion,
            }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        else
            Print(e);
        return 0;
    }

    private static double? Finite(double x) => double.IsFinite(x) ? x : null;

    private static void Print(FolderEvaluation e)
    {
        var inv = CultureInfo.InvariantCulture;
        string P(double? x) => x?.ToString("P1", inv) ?? "n/a";
        var m = e.Metrics;
        Console.WriteLine((e.ZeroShot ? "Zero-shot model (no trained model served)" : $"Model run {e.ModelRunId}") +
            $": {m.Count} of {e.Documents.Count} documents evaluated");
        Console.WriteLine($"accuracy {m.Accuracy.ToString("P2", inv)}, macro-F1 {m.MacroF1.ToString("F4", inv)}, " +
            $"log-loss {e.LogLoss.ToString("F3", inv)}, expected calibration error {e.Ece.ToString("F3", inv)}");
        if (e.ZeroShot)
            Console.WriteLine("every answer of the zero-shot model needs review");
        else
            Console.WriteLine($"needs review (confidence below {e.ReviewThreshold?.ToString("F2", inv) ?? "n/a"}): {e.NeedingReview} of {m.Count} " +
                $"({P(m.Count == 0 ? null : (double)e.NeedingReview / m.Count)}); accuracy of the other answers {P(e.AccuracyWithoutReview)}, " +
                $"of the flagged ones {P(e.AccuracyNeedingReview)}");
        foreach (var d in e.Documents.Where(d => d.Error is not null))
            Console.WriteLine($"unreadable: {d.Path}: {d.Error}");
        Console.WriteLine("confusion matrix (rows = true class, columns = predicted 0-15):");
        Console.WriteLine("      " + string.Concat(Enumerable.Range(0, m.Confusion.Length).Select(c => $"{c,4}")));
        for (var t = 0; t < m.Confusion.Length; t++)
            if (m.PerClass[t].Support > 0)
                Console.WriteLine($"{t,4}  " + string.Concat(m.Confusion[t].Select(v => $"{v,4}")) +
                    $"   {m.PerClass[t].ClassName} recall {m.PerClass[t].Recall.ToString("P0", inv)}");
    }
}
