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
    public IReadOnlyList<string> Options => [];
    public string Usage => "FILE...  classify documents with the champion (before any training, the zero-shot model); JSON lines with the API's fields";

    /// <summary>Where the JSON lines go (standard output).</summary>
    internal TextWriter Output { get; init; } = Console.Out;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        args = args.Where(a => a != "--").ToList(); // `predict -- --odd-name.tif`: the files after it are files
        if (args.Count == 0)
        {
            Console.Error.WriteLine($"Usage: predict {Usage}");
            return 2;
        }
        if (!await ServedModelCheck.ReadyAsync(classifier, ct)) return 3;
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

/// <summary>What the <c>predict</c> and <c>evaluate</c> commands load before they classify, said as the API says it.</summary>
internal static class ServedModelCheck
{
    /// <summary>
    /// Loads the champion. One that cannot be loaded is said on standard error, and the zero-shot model answers instead,
    /// as in the API; false (nothing can classify) when the zero-shot model is off too.
    /// </summary>
    public static async Task<bool> ReadyAsync(IDocumentClassifier classifier, CancellationToken ct)
    {
        var (served, failure) = await Api.PromotionServing.TryReloadAsync(classifier, ct);
        if (failure is not null)
            await Console.Error.WriteLineAsync($"The promoted champion cannot be loaded ({failure.TrimEnd('.')})" +
                (served is null && classifier.CanClassify ? ": the zero-shot model answers instead." : "."));
        if (served is not null || classifier.CanClassify) return true;
        await Console.Error.WriteLineAsync(failure is null
            ? "No model is promoted yet and the zero-shot model is off (Inference:ZeroShot): run `train` first."
            : "The zero-shot model is off (Inference:ZeroShot): nothing can classify.");
        return false;
    }
}
