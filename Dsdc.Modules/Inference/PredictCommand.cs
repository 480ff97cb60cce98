using System.Text.Json;
using Dsdc.ImageProcessing;
using Dsdc.Shared.Cli;

namespace Dsdc.Inference;

/// <summary><c>predict FILE...</c>: one JSON object per file on standard output (the API's contract, plus the file).</summary>
internal sealed class PredictCommand(IDocumentClassifier classifier) : ICliCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Name => "predict";
    public string Usage => "FILE...  classify documents with the champion model; JSON lines";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (args.Count == 0)
        {
            Console.Error.WriteLine($"Usage: predict {Usage}");
            return 2;
        }
        if (await classifier.ReloadAsync(ct) is null)
        {
            Console.Error.WriteLine("No model is promoted yet: run `train` first.");
            return 3;
        }
        var failed = 0;
        foreach (var file in args)
        {
            try
            {
                var c = await classifier.ClassifyFileAsync(file, ct);
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    file, c.Label, c.ClassName, c.Probabilities, c.Confidence, c.TopProbability, c.ModelId, c.TimingsMs,
                }, Json));
            }
            catch (Exception ex) when (ex is InvalidDocumentException or IOException)
            {
                failed++;
                Console.WriteLine(JsonSerializer.Serialize(new { file, error = ex.Message }, Json));
            }
        }
        return failed == 0 ? 0 : 1;
    }
}
