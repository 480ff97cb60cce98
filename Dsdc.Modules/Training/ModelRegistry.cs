using System.Text.RegularExpressions;
using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dsdc.Training;

/// <summary>The model being served: its run and artifact files.</summary>
public sealed record ChampionModel(long RunId, string OnnxPath, ModelManifest Manifest);

/// <summary>Told when the champion changes in this process (promotion, rollback), e.g. to hot-reload the served model.</summary>
public interface IChampionObserver
{
    Task ChampionChangedAsync(long? runId, CancellationToken ct);
}

public sealed record PromotionResult(bool Promoted, long? ChampionRunId, string Message);

/// <summary>
/// Champion/challenger registry over the recorded runs: who serves, manual promotion, rollback, and the history with
/// who, when and why. Other modules (the API, the dashboard, Inference) use this class, never the tables.
/// </summary>
/// <remarks>The observers are resolved when a promotion happens: the served model's host is one, and it reads the registry.</remarks>
public sealed class ModelRegistry(TrainingStore store, DsdcPaths paths, IServiceProvider services, ILogger<ModelRegistry> logger)
{
    /// <summary>The newest <paramref name="limit"/> runs, newest first; with <paramref name="before"/>, those older than that run.</summary>
    public Task<IReadOnlyList<RunSummary>> RunsAsync(int limit, CancellationToken ct, long? before = null) => store.RunsAsync(limit, ct, before);

    public Task<RunSummary?> RunAsync(long runId, CancellationToken ct) => store.RunAsync(runId, ct);

    public Task<IReadOnlyList<EpochMetrics>> EpochsAsync(long runId, CancellationToken ct) => store.EpochsAsync(runId, ct);

    public Task<IReadOnlyList<Promotion>> PromotionsAsync(CancellationToken ct) => store.PromotionsAsync(ct);

    /// <summary>How many runs have each status (running, succeeded, failed).</summary>
    public Task<IReadOnlyDictionary<string, long>> RunCountsAsync(CancellationToken ct) => store.RunCountsAsync(ct);

    /// <summary>The serving run: <see cref="ChampionHistory.Champion"/> of the promotion history, the one definition of
    /// it, read as the newest promotion's run (<see cref="TrainingStore.ChampionRunIdAsync"/>).</summary>
    public Task<long?> ChampionRunIdAsync(CancellationToken ct) => store.ChampionRunIdAsync(ct);

    /// <summary>The champion's files, or null when nothing was ever promoted.</summary>
    public async Task<ChampionModel?> ChampionAsync(CancellationToken ct) =>
        await ChampionRunIdAsync(ct) is { } runId ? Artifact(runId) : null;

    public ChampionModel Artifact(long runId)
    {
        var dir = Path.Combine(paths.ModelsDir, ModelArtifacts.RelativeDir(runId));
        var onnx = Path.Combine(dir, ModelArtifacts.OnnxFile);
        var manifest = Path.Combine(dir, ModelArtifacts.ManifestFile);
        if (!File.Exists(onnx) || !File.Exists(manifest))
            throw new FileNotFoundException($"run {runId} has no model files under {ModelArtifacts.RelativeDir(runId)} of the models folder", onnx);
        return new ChampionModel(runId, onnx, ModelManifest.Read(manifest));
    }

    /// <summary>
    /// Why this process cannot serve a run a person promotes or rolls back to: its model files cannot be read (missing, a
    /// broken manifest, a view's graph or feature file: <see cref="ViewEnsembleRunner.WhyNotLoadable"/>), or it was trained
    /// on inputs this process does not compute (another encoder or region set, <see cref="ModelManifest.WhyNotServable"/>);
    /// null when it can. Recorded anyway, such a champion would leave every
    /// server on the zero-shot model, and the next training job would replace it.
    /// </summary>
    private string? WhyCannotServe(long runId)
    {
        var encoder = services.GetService<Dsdc.Embedding.IDocumentEncoder>();
        var embedding = services.GetService<Microsoft.Extensions.Options.IOptions<Dsdc.Embedding.EmbeddingOptions>>();
        return TryServable(runId, encoder, embedding is null ? null : Dsdc.Embedding.RegionEncoder.SetOf(embedding.Value)).Why;
    }

    /// <summary>
    /// A run's artifact, and why a process that embeds with <paramref name="encoder"/> and computes the region features
    /// of <paramref name="regions"/> cannot serve it (null when it can): its files cannot be read (model, manifest, a
    /// view's graph or feature file), or it was trained on other inputs (not checked without an encoder).
    /// </summary>
    public (ChampionModel? Model, string? Why) TryServable(long runId, Dsdc.Embedding.IDocumentEncoder? encoder,
        Dsdc.ImageProcessing.RegionSet? regions)
    {
        var (model, why) = TryArtifact(runId);
        if (model is null) return (null, why);
        if (encoder is not null && regions is not null && model.Manifest.WhyNotServable(encoder, regions) is { } other) return (model, other);
        return (model, ViewEnsembleRunner.WhyNotLoadable(model) is { } broken ? WithoutServerPaths($"run {runId}: {broken}") : null);
    }

    /// <summary>A run's artifact, or why its files cannot be read (missing, a broken manifest).</summary>
    public (ChampionModel? Model, string? Why) TryArtifact(long runId)
    {
        try
        {
            return (Artifact(runId), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException)
        {
            return (null, WithoutServerPaths(ex.Message));
        }
    }

    /// <summary>
    /// A message about a run's files without the server's absolute paths: it reaches anonymous callers (the status
    /// endpoint says why the champion does not serve). A path under the models folder becomes relative to it.
    /// </summary>
    public string WithoutServerPaths(string message)
    {
        var root = paths.ModelsDir.TrimEnd(Path.DirectorySeparatorChar);
        if (root.Length == 0) return message; // the file system's root: every path is the server's and none names it
        // A path inside the folder becomes relative to it; the folder itself is named, not a sibling that starts alike.
        return Regex.Replace(message.Replace(root + Path.DirectorySeparatorChar, "", StringComparison.Ordinal),
            Regex.Escape(root) + @"(?![\w.-])", "the models folder");
    }

    /// <summary>
    /// Removes the model files of the runs older than the newest <paramref name="keep"/> that were never promoted
    /// (<see cref="TrainingOptions.KeepRunFiles"/>), or, with <paramref name="keepChampions"/> above 0, that none of the
    /// newest that many promotions names (<see cref="TrainingOptions.KeepChampionFiles"/>), none newer than <paramref name="upTo"/> (a job passes the newest run
    /// before its own: its runs keep their files whatever their number); their records stay. Returns how many runs lost
    /// their files. A folder that cannot be removed now is said in the log and tried again by the next call, as is a
    /// folder a failed run of that age left.
    /// </summary>
    public async Task<int> PruneRunFilesAsync(int keep, CancellationToken ct, long upTo = long.MaxValue, int keepChampions = 0)
    {
        if (keep <= 0) return 0;
        var (released, withoutFiles) = await store.ReleaseRunFilesAsync(keep, upTo, ct, keepChampions);
        foreach (var runId in withoutFiles)
        {
            var dir = Path.Combine(paths.ModelsDir, ModelArtifacts.RelativeDir(runId));
            try
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(ex, "The model files of run {RunId} could not be removed from {Folder}", runId, dir);
            }
        }
        if (released.Count > 0)
            logger.LogInformation("Removed the model files of {Count} old run(s) (Training:KeepRunFiles is {Keep}): {Runs}",
                released.Count, keep, string.Join(", ", released));
        return released.Count;
    }

    /// <summary>Makes a succeeded run the champion, whatever its scores (a person decided).</summary>
    public async Task<PromotionResult> PromoteAsync(long runId, string promotedBy, string? reason, CancellationToken ct)
    {
        var run = await store.RunAsync(runId, ct);
        if (run is null) return new PromotionResult(false, await ChampionRunIdAsync(ct), $"run {runId} does not exist");
        if (run.Status != "succeeded")
            return new PromotionResult(false, await ChampionRunIdAsync(ct), $"run {runId} has status {run.Status}; only a succeeded run can serve");
        if (run.FilesRemoved)
            return new PromotionResult(false, await ChampionRunIdAsync(ct), $"run {runId}'s {FilesRemovedReason}; train again");
        if (WhyCannotServe(runId) is { } why)
            return new PromotionResult(false, await ChampionRunIdAsync(ct), $"run {runId} cannot serve: {why}");
        var current = await ChampionRunIdAsync(ct);
        if (current == runId) return new PromotionResult(false, current, $"run {runId} is already the champion");
        return await RecordAsync(runId, current, PromotionKinds.Manual, PersonsReason(reason) ?? "manual promotion", promotedBy, ct);
    }

    /// <summary>
    /// Returns to the champion before the current one. With <paramref name="from"/> (the champion the person saw), refused
    /// when another run has become champion since: the rollback would otherwise remove a model nobody looked at.
    /// </summary>
    public async Task<PromotionResult> RollbackAsync(string promotedBy, string? reason, CancellationToken ct, long? from = null)
    {
        var history = await store.PromotionsAsync(ct);
        var current = ChampionHistory.Champion(history);
        if (from is { } seen && current != seen)
            return new PromotionResult(false, current,
                $"the champion is now {(current is { } now ? $"run {now}" : "none")}, not run {seen}: look at it before rolling back");
        if (ChampionHistory.RollbackTarget(history) is not { } target)
            return new PromotionResult(false, current, current is null ? "no champion to roll back" : "the champion has no predecessor to roll back to");
        if ((await store.RunAsync(target, ct))?.FilesRemoved == true)
            return new PromotionResult(false, current, $"cannot roll back to run {target}: its {FilesRemovedReason}");
        if (WhyCannotServe(target) is { } why)
            return new PromotionResult(false, current, $"cannot roll back to run {target}: {why}");
        return await RecordAsync(target, current, PromotionKinds.Rollback, PersonsReason(reason) ?? $"rollback from run {current}", promotedBy, ct);
    }

    /// <summary>Why a run has no model files, after "run N's".</summary>
    private const string FilesRemovedReason = "model files were removed: only the newest Training:KeepRunFiles runs and the runs the newest " +
        "Training:KeepChampionFiles promotions name (the champions and the runs they replaced) keep theirs";

    /// <summary>Most characters of a person's reason kept in the promotion history.</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>
    /// A reason typed by a person (UI, API, command line) as the history keeps it: without the characters PostgreSQL's
    /// text cannot hold (a NUL would fail the promotion with a server error), trimmed, at most
    /// <see cref="MaxReasonLength"/> characters; null when nothing is left.
    /// </summary>
    internal static string? PersonsReason(string? reason)
    {
        if (reason is null) return null;
        var clean = TextInput.ForDatabase(reason).Trim();
        if (clean.Length > MaxReasonLength)
            clean = clean[..(char.IsHighSurrogate(clean[MaxReasonLength - 2]) ? MaxReasonLength - 2 : MaxReasonLength - 1)] + "…";
        return clean.Length == 0 ? null : clean;
    }

    internal async Task<PromotionResult> RecordAsync(long runId, long? current, string kind, string reason, string by, CancellationToken ct)
    {
        if (await store.AddPromotionAsync(runId, current, kind, reason, by, ct) is { } refused)
            return new PromotionResult(false, await ChampionRunIdAsync(ct), refused);
        logger.LogInformation("Run {RunId} is now the champion ({Kind} by {By}: {Reason}); previous {Previous}", runId, kind, by, reason, current);
        await NotifyAsync(runId);
        return new PromotionResult(true, runId, $"run {runId} is now the champion ({kind})");
    }

    /// <summary>Tells this process's observers (the served model's host loads the new champion). Not cancelled with the
    /// request that promoted: the promotion is recorded, and a person who closes the page must not leave this process
    /// serving the previous champion until its next reload check.</summary>
    private async Task NotifyAsync(long? runId)
    {
        var ct = CancellationToken.None;
        foreach (var observer in services.GetServices<IChampionObserver>())
        {
            try
            {
                await observer.ChampionChangedAsync(runId, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The promotion is recorded; a server that failed to load it keeps its model and retries on its next reload.
                logger.LogError(ex, "{Observer} failed to take run {RunId}", observer.GetType().Name, runId);
            }
        }
    }
}
