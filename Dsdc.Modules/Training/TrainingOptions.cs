using System.ComponentModel.DataAnnotations;

namespace Dsdc.Training;

public sealed class TrainingOptions : IValidatableObject
{
    public const string Section = "Training";

    /// <summary>Schedule the recurring training job (the original's hourly train_model DAG).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cron of the recurring job, hourly by default as in the original.</summary>
    [Required(AllowEmptyStrings = false)]
    [Dsdc.Shared.Cron]
    public string Cron { get; set; } = "0 * * * *";

    /// <summary>
    /// Between the recurring job's runs, train as soon as this many labels (new ones or corrections) were added since the
    /// last job, or a tenth of the documents that job trained on when that is more; 0: only on <see cref="Cron"/>. While
    /// labels are few, a model retrained after every 16-24 labels is 3 points more accurate at 48 and 96 labels than one
    /// retrained after every 48, because the review queue then offers what the newer model needs (docs/benchmarks.md,
    /// "Which documents to label first"); a job costs seconds at that size.
    /// </summary>
    [Range(0, 1_000_000)]
    public int RetrainAfterLabels { get; set; } = 20;

    /// <summary>Cron of the check for <see cref="RetrainAfterLabels"/> (a count of labels; it trains only when enough arrived).</summary>
    [Required(AllowEmptyStrings = false)]
    [Dsdc.Shared.Cron]
    public string NewLabelsCron { get; set; } = "*/5 * * * *";

    /// <summary>
    /// MLP candidates per job, beside <see cref="Candidates"/>: the original's 3 known-best configurations first, then
    /// random ones from the original's bounds (the original trained 10 = 3 + 7). 0 by default: on few labels they lose
    /// to the fused models by 20 points or more in cross-validation (docs/benchmarks.md).
    /// </summary>
    [Range(0, 100)]
    public int RunsPerJob { get; set; }

    /// <summary>
    /// The fused recipes each job estimates (names of <see cref="FusedRecipes.All"/>); recipes needing region features
    /// wait until every page has them. No list in appsettings.json: configuration binding replaces an array's items by
    /// index, so <c>Training__Candidates__0=fused-tv</c> over a two-item list would still train the second.
    /// </summary>
    public string[]? Candidates { get; set; }

    /// <summary>The recipes used when <see cref="Candidates"/> is not set.</summary>
    public static readonly IReadOnlyList<string> DefaultCandidates = ["fused-tvrc", "fused-tvc"];

    /// <summary>The fused recipes of <see cref="Candidates"/> once each, or <see cref="DefaultCandidates"/> when it is not set.</summary>
    public IReadOnlyList<string> CandidateNames =>
        Candidates is { Length: > 0 } names ? names.Distinct(StringComparer.Ordinal).ToArray() : DefaultCandidates;

    /// <summary>An unknown recipe name is refused at start, not by every training job.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var name in Candidates ?? [])
            if (!FusedRecipes.All.ContainsKey(name))
                yield return new ValidationResult(
                    $"Training:Candidates names an unknown recipe '{name}' (known: {string.Join(", ", FusedRecipes.All.Keys)})", [nameof(Candidates)]);
    }

    /// <summary>
    /// The model files of this many newest runs are kept, beside those of the recent champions and the runs a rollback
    /// returns to (<see cref="KeepChampionFiles"/>); after each job that trains, older runs' files are removed and their records kept
    /// (estimates, parameters, lineage). A fused run's files take about 2 MB, and a job that trains writes one per
    /// candidate, so a models folder otherwise grows by every job for as long as labels keep changing. 0: keep all.
    /// </summary>
    [Range(0, 1_000_000)]
    public int KeepRunFiles { get; set; } = 50;

    /// <summary>
    /// Past <see cref="KeepRunFiles"/>, the runs the newest this many promotions name (each champion and the run it
    /// replaced) and the this many runs a series of rollbacks would return to keep their model files too; older champions' files are removed like any old
    /// run's, their records kept. A job that promotes the refit of its champion's recipe after new labels writes one such
    /// run (about 2 MB) each time, so keeping every champion ever served grows the models folder for good.
    /// 0: every run ever promoted keeps its files.
    /// </summary>
    [Range(0, 1_000_000)]
    public int KeepChampionFiles { get; set; } = 20;

    /// <summary>Selection by cross-validation while the stored test side would hold fewer documents than this of some class (0: never).</summary>
    [Range(0, 1000)]
    public int TestSidePerClass { get; set; } = 10;

    /// <summary>
    /// Above this many labelled documents the stored split decides even when a class is short on its test side (one rare
    /// class among thousands of documents): the test side then holds hundreds of documents, enough to tell candidates
    /// apart, and cross-validating every candidate on all of them would take 15 fits of thousands of documents each
    /// (0: no bound).
    /// </summary>
    [Range(0, 1_000_000)]
    public int CrossValidationMaxDocuments { get; set; } = 2000;

    /// <summary>
    /// Most documents of one class that a fit on the stored split trains on (0: all): a seeded draw, the same from job to
    /// job. A fit's cost grows faster than its documents past a few thousand (docs/benchmarks.md, "Training job cost":
    /// 7,776 documents take 2.5 min and 7 GB per candidate on 2 cores); 500 per class bounds a job near that.
    /// Selection by cross-validation (small data) always uses every document.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxTrainingPerClass { get; set; } = 500;

    /// <summary>
    /// Most documents of the stored test side that a job scores its candidates and the champion on (0: all): past it, a
    /// seeded draw that keeps each class's share of the test side (so accuracy, the coverage curve and the review
    /// threshold read the same mix of classes), the same from job to job. 8,000 documents tell candidates apart to within
    /// about a point, and keep what a job holds in memory bounded however many documents are labelled.
    /// </summary>
    [Range(0, 10_000_000)]
    public int MaxTestDocuments { get; set; } = 8000;

    /// <summary>One-sided threshold above which a challenger of another recipe replaces the champion: under
    /// cross-validation on the corrected resampled t statistic of the paired fold differences, on the stored split on
    /// McNemar's z over the test documents (<see cref="PairedDocuments"/>). 0 (the default): the one-sided 95% quantile,
    /// Student's t at J - 1 degrees of freedom for the J folds compared (1.761 for 5-fold x 3), the normal's 1.645 on the split.</summary>
    [Range(0, 10)]
    public double PromotionT { get; set; }

    /// <summary>Most epochs per network; early stopping usually ends a run sooner (50 at lr 1e-4 under-fit: docs/benchmarks.md).</summary>
    [Range(1, 10_000)]
    public int Epochs { get; set; } = 300;

    [Range(1, 4096)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Epochs without a better validation loss before a run stops (its best weights are kept).</summary>
    [Range(1, 10_000)]
    public int Patience { get; set; } = 30;

    /// <summary>Seeds the split of new documents, weight initialisation, shuffling and the random search.</summary>
    public int Seed { get; set; } = 42;

    [Range(0.05, 0.45)]
    public double ValidationFraction { get; set; } = 0.15;

    [Range(0.05, 0.45)]
    public double TestFraction { get; set; } = 0.15;

    /// <summary>Fewest labelled, embedded documents a job trains on (and always documents of two classes); below it the job does nothing.</summary>
    [Range(2, 1_000_000)]
    public int MinDocuments { get; set; } = 2;

    /// <summary>Train on CUDA when TorchSharp finds a device (needs a CUDA build of libtorch; the CPU build never does).</summary>
    public bool UseCuda { get; set; } = true;

    /// <summary>CPU threads for TorchSharp; 0 = every core.</summary>
    [Range(0, 256)]
    public int Threads { get; set; }

    /// <summary>Folds of the repeated cross-validation that selects models while data is small (fewer folds when there are few documents).</summary>
    [Range(2, 20)]
    public int CvFolds { get; set; } = 5;

    /// <summary>Repeats of the cross-validation, each with other folds (same seed, same folds every time).</summary>
    [Range(1, 20)]
    public int CvRepeats { get; set; } = 3;

    /// <summary>A prediction needs review when its confidence is below the threshold at which cross-validated predictions reach this accuracy.</summary>
    [Range(0.5, 1.0)]
    public double ReviewTargetAccuracy { get; set; } = 0.9;
}
