using System.Text.Json;
using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Dsdc.Shared.Cli;

namespace Dsdc.Inference;

/// <summary>
/// <c>predict FILE...</c>: one JSON object per file on standard output, with the fields of the API's answer (label,
/// className, probabilities, confidence, topProbability, modelId, needsReview, zeroShot, knownClasses, timingsMs) and
/// the file; before any training the zero-shot model answers, as it does for the API.
/// </summary>
internal sealed class PredictCommand(IDocumentClassifier classifier) : ICliCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Name => "predict";
    public string Usage => "FILE...  classify documents with the champion (before any training, the zero-shot model); JSON lines with the API's fields";

    /// <summary>Where the JSON lines go (standard output).</summary>
    internal TextWriter Output { get; init; } = Console.Out;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (args.Count == 0)
        {
            Console.Error.WriteLine($"Usage: predict {Usage}");
            return 2;
        }
        if (await classifier.ReloadAsync(ct) is null && !classifier.CanClassify)
        {
            Console.Error.WriteLine("No model is promoted yet and the zero-shot model is off (Inference:ZeroShot): run `train` first.");
            return 3;
        }
        var failed = 0;
        foreach (var file in args)
        {
            try
            {
                var c = await classifier.ClassifyFileAsync(file, ct);
                await Output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    file, c.Label, c.ClassName, c.Probabilities, c.Confidence, c.TopProbability, c.ModelId, c.NeedsReview, c.ZeroShot,
                    KnownClasses = c.KnownClasses.Select(DocumentClasses.NameOf).ToList(), c.TimingsMs,
                }, Json));
            }
            catch (Exception ex) when (ex is InvalidDocumentException or IOException)
            {
                failed++;
                await Output.WriteLineAsync(JsonSerializer.Serialize(new { file, error = ex.Message }, Json));
            }
        }
        return failed == 0 ? 0 : 1;
    }
}
