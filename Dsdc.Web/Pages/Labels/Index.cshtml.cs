using Dsdc.Embedding;
using Dsdc.Inference;
using Dsdc.Inference.Api;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Dsdc.Training;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Dsdc.Web.Pages.Labels;

public sealed record ClassRow(int Label, string Name, long Human, long Dataset, bool Predictable)
{
    public long Total => Human + Dataset;
}

/// <summary>
/// Labels at a glance: labelled documents per class by the source of their current label, the classes the served model
/// cannot predict yet, the labels added or changed since the champion was trained, and when training starts again.
/// </summary>
public sealed class IndexModel(IngestionQueries queries, ModelRegistry registry, IDocumentClassifier classifier, IDocumentEncoder encoder,
    TrainingService training, IOptions<TrainingOptions> trainingOptions) : PageModel
{
    public TrainingOptions Training => trainingOptions.Value;

    /// <summary>The labels set since the last training job and how many start the next one; null when that check is off.</summary>
    public (NewLabels Labels, int Needed)? TowardsTraining { get; private set; }

    public IReadOnlyList<ClassRow> Classes { get; private set; } = [];
    public long Unlabelled { get; private set; }
    public StatusResponse Serving { get; private set; } = null!;
    public RunSummary? Champion { get; private set; }
    public LabelChanges? SinceChampion { get; private set; }

    public IEnumerable<ClassRow> Unpredictable => Classes.Where(c => !c.Predictable);

    public async Task OnGetAsync(CancellationToken ct)
    {
        var counts = (await queries.LabelCountsAsync(ct)).ToDictionary(c => (int)c.Label);
        Serving = ServingStatus.Describe(classifier, encoder);
        var known = Serving.KnownClasses.ToHashSet(StringComparer.Ordinal);
        Classes = Enumerable.Range(0, DocumentClasses.Count).Select(i => counts.GetValueOrDefault(i) is { } c
                ? new ClassRow(i, DocumentClasses.NameOf(i), c.Human, c.Dataset, known.Contains(DocumentClasses.NameOf(i)))
                : new ClassRow(i, DocumentClasses.NameOf(i), 0, 0, known.Contains(DocumentClasses.NameOf(i))))
            .ToList();
        Unlabelled = await queries.UnlabelledCountAsync(ct);
        if (Training.Enabled && Training.RetrainAfterLabels > 0) TowardsTraining = await training.LabelsTowardsTrainingAsync(ct);
        if (await registry.ChampionRunIdAsync(ct) is { } championId && await registry.RunAsync(championId, ct) is { } run)
        {
            Champion = run;
            // The champion was fitted on the labels that existed when its run started.
            SinceChampion = await queries.LabelsSinceAsync(run.StartedAt, ct);
        }
    }
}
