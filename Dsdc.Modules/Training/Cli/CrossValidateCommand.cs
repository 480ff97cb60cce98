using System.Globalization;
using System.Text.Json;
using Dsdc.Embedding;
using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>crossvalidate [--folds K] [--epochs N] [--variants a,b] [--json]</c>: stratified k-fold accuracy and macro-F1 of
/// model variants over every labelled document embedded by the configured encoder (run <c>ingest</c> on the corpus first).
/// </summary>
internal sealed class CrossValidateCommand(TrainingStore store, PageInputsLoader pages, IDocumentEncoder encoder, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "crossvalidate";
    public string Usage => "[--folds K] [--epochs N] [--variants a,b] [--json]  k-fold accuracy of model variants on the ingested labelled documents";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var folds = cli.Int("--folds") ?? 5;
        var epochs = cli.Int("--epochs") ?? o.Epochs;
        var docs = (await store.LabelledDocumentsAsync(encoder.Id, encoder.Version, withText: true, ct))
            .Select(e => new CvDocument(e.Example.DocumentId, e.Example.Label, e.Example.Vector, e.Text ?? "", pages.Load(e))).ToList();
        if (docs.Count < folds * 2)
        {
            Console.Error.WriteLine($"Only {docs.Count} labelled document(s) embedded with {encoder.Id}: ingest a labelled corpus first.");
            return 1;
        }
        var variants = CvVariants.All(epochs, o, ct);
        if (cli.Value("--variants") is { } chosen)
            variants = variants.Where(v => chosen.Split(',').Contains(v.Name)).ToList();

        var results = new List<CvResult>();
        foreach (var variant in variants)
        {
            var result = CrossValidation.Run(docs, folds, o.Seed, variant, line => Console.Error.WriteLine(line));
            results.Add(result);
            if (!cli.Flag("--json")) Print(result);
        }
        if (cli.Flag("--json"))
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                documents = docs.Count, folds, encoder = encoder.Id, classes = docs.Select(d => d.Label).Distinct().Count(),
                variants = results.Select(r => new
                {
                    name = r.Variant, r.Description, accuracy = r.Metrics.Accuracy, macroF1 = r.Metrics.MacroF1, meanEpochMs = r.MeanEpochMs,
                    seconds = r.Seconds, foldAccuracies = r.FoldAccuracies,
                    recall = r.Metrics.PerClass.Where(c => c.Support > 0).ToDictionary(c => c.ClassName, c => c.Recall),
                    support = r.Metrics.PerClass.Where(c => c.Support > 0).ToDictionary(c => c.ClassName, c => c.Support),
                }),
            }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        return 0;
    }

    private static void Print(CvResult r)
    {
        Console.WriteLine($"{r.Variant}: accuracy {r.Metrics.Accuracy.ToString("P1", CultureInfo.InvariantCulture)}, macro-F1 " +
            $"{r.Metrics.MacroF1.ToString("F3", CultureInfo.InvariantCulture)}, {r.MeanEpochMs:F1} ms/epoch, {r.Seconds:F0} s ({r.Description})");
        foreach (var c in r.Metrics.PerClass.Where(c => c.Support > 0))
            Console.WriteLine($"    {c.Label,2} {c.ClassName,-24} recall {c.Recall.ToString("P0", CultureInfo.InvariantCulture),5} of {c.Support}");
    }
}
