using Dsdc.Embedding;
using Dsdc.Inference;
using Dsdc.Inference.Api;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Dsdc.Training;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Dsdc.Web.Pages.Labels;

public sealed record ClassRow(int Label, string Name, long Human, long Dataset, bool Predictable)
{
    public long Total => Human + Dataset;
}

/// <summary>
/// Labels at a glance: labelled documents per class by the source of their current label, the classes the served model
/// cannot predict yet, how often the champion recognises each class, the labels added or changed since the champion was
/// trained, and when training starts again.
/// </summary>
public sealed class IndexModel(IngestionQueries queries, ModelRegistry registry, IDocumentClassifier classifier, IDocumentEncoder encoder,
    TrainingService training, TrainingStore store, IOptions<TrainingOptions> trainingOptions) : PageModel
{
    public TrainingOptions Training => trainingOptions.Value;

    /// <summary>The documents labelled or given another class since the last training job and how many start the next one;
    /// null when that check is off.</summary>
    public (NewLabels Labels, int Needed)? TowardsTraining { get; private set; }

    public IReadOnlyList<ClassRow> Classes { get; private set; } = [];
    public long Unlabelled { get; private set; }
    public StatusResponse Serving { get; private set; } = null!;
    public RunSummary? Champion { get; private set; }
    public LabelChanges? SinceChampion { get; private set; }

    /// <summary>When the champion's training job read its labels.</summary>
    public DateTime? DataReadAt { get; private set; }

    /// <summary>The champion's per-class precision and recall (cross-validated, or on the stored test side); null before any.</summary>
    public ModelScores? ChampionScores { get; private set; }

    /// <summary>The champion's metrics of class <paramref name="label"/>, when it was scored on documents of that class.</summary>
    public ClassMetrics? ScoresOf(int label) => ChampionScores?.PerClass.FirstOrDefault(c => c.Label == label && c.Support > 0);

    /// <summary>The (at most three) classes the champion recognises least often, lowest recall first.</summary>
    public IReadOnlyList<ClassMetrics> LeastRecognised => ChampionScores is null ? []
        : ChampionScores.PerClass.Where(c => c.Support > 0 && c.Recall < 1).OrderBy(c => c.Recall).ThenBy(c => c.Label).Take(3).ToList();

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
            // The champion was fitted on the labels that existed when its job began reading them, before its run started.
            DataReadAt = await store.DataReadAtAsync(run.StartedAt, ct);
            SinceChampion = await queries.LabelsSinceAsync(DataReadAt.Value, ct);
            ChampionScores = await RunDisplay.ScoresAsync(store, championId, ct);
        }
    }
}
