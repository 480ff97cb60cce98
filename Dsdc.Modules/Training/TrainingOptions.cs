using System.ComponentModel.DataAnnotations;

namespace Dsdc.Training;

public sealed class TrainingOptions
{
    public const string Section = "Training";

    /// <summary>Schedule the recurring training job (the original's hourly train_model DAG).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cron of the recurring job, hourly by default as in the original.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Cron { get; set; } = "0 * * * *";

    /// <summary>Runs per job: the 3 known-best configurations first, then random ones (10 = 3 + 7, as in the original).</summary>
    [Range(1, 100)]
    public int RunsPerJob { get; set; } = 10;

    /// <summary>Most epochs per network; early stopping usually ends a run sooner (50 at lr 1e-4 under-fit: docs/benchmarks.md).</summary>
    [Range(1, 10_000)]
    public int Epochs { get; set; } = 300;

    [Range(1, 4096)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Epochs without a better validation loss before a run stops (its best weights are kept).</summary>
    [Range(1, 10_000)]
    public int Patience { get; set; } = 30;

    /// <summary>Also train the multi-view model (<see cref="ProductionViews"/>) in each job; it competes with the MLPs on the test side.</summary>
    public bool TrainViewModel { get; set; } = true;

    /// <summary>Seeds the split of new documents, weight initialisation, shuffling and the random search.</summary>
    public int Seed { get; set; } = 42;

    [Range(0.05, 0.45)]
    public double ValidationFraction { get; set; } = 0.15;

    [Range(0.05, 0.45)]
    public double TestFraction { get; set; } = 0.15;

    /// <summary>Fewest labelled, embedded documents a job trains on; below it the job does nothing.</summary>
    [Range(16, 1_000_000)]
    public int MinDocuments { get; set; } = 32;

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
