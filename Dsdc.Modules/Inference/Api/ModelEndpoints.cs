using System.Security.Claims;
using Dsdc.Auth;
using Dsdc.Training;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dsdc.Inference.Api;

public sealed record ModelSummary(RunSummary Run, bool Champion);

public sealed record ModelsResponse(long? ChampionRunId, long? ServedRunId, IReadOnlyList<ModelSummary> Runs, IReadOnlyList<Promotion> Promotions);

/// <param name="Reason">why, kept in the promotion history.</param>
/// <param name="From">for a rollback: the champion the caller means to roll back; refused (409) when another run is
/// champion by then.</param>
public sealed record PromotionRequest(string? Reason, long? From = null);

public sealed record PromotionResponse(bool Promoted, long? ChampionRunId, long? ServedRunId, string Message);

/// <summary>The model registry over HTTP, for role model-admin: list, promote, roll back, reload.</summary>
internal static class ModelEndpoints
{
    /// <summary>The newest runs (<paramref name="limit"/>, default 100, at most 1000), newest first; <paramref name="before"/>
    /// a run id gives the runs older than it, the next page.</summary>
    public static async Task<Ok<ModelsResponse>> List(int? limit, long? before, ModelRegistry registry, IDocumentClassifier classifier, CancellationToken ct)
    {
        var champion = await registry.ChampionRunIdAsync(ct);
        var runs = await registry.RunsAsync(Math.Clamp(limit ?? 100, 1, 1000), ct, before);
        return TypedResults.Ok(new ModelsResponse(champion, classifier.ModelRunId,
            runs.Select(r => new ModelSummary(r, r.Id == champion)).ToList(), await registry.PromotionsAsync(ct)));
    }

    public static async Task<Results<Ok<PromotionResponse>, ProblemHttpResult>> Promote(
        long runId, PromotionRequest? body, ClaimsPrincipal user, ModelRegistry registry, IDocumentClassifier classifier, CancellationToken ct)
    {
        if (await registry.RunAsync(runId, ct) is null)
            return PredictionEndpoints.Problem(StatusCodes.Status404NotFound, "Unknown run", $"Run {runId} does not exist.");
        var result = await registry.PromoteAsync(runId, user.GetUserName() ?? "unknown", body?.Reason, ct);
        return await Answer(result, classifier, ct);
    }

    /// <summary>The documents a run's model was fitted on, with the label each was trained with and the stored vector it
    /// read (<c>embedding.vectors.id</c>), as CSV; 404 for an unknown run or one with no recorded training set.</summary>
    public static async Task<IResult> Documents(long runId, ModelRegistry registry, TrainingStore store, CancellationToken ct)
    {
        if (await registry.RunAsync(runId, ct) is not { } run)
            return PredictionEndpoints.Problem(StatusCodes.Status404NotFound, "Unknown run", $"Run {runId} does not exist.");
        if (await store.DatasetOfRunAsync(runId, ct) is not { } set)
            return PredictionEndpoints.Problem(StatusCodes.Status404NotFound, "No recorded training set", DatasetCsv.WhyNone(run));
        return TypedResults.Stream(stream => DatasetCsv.WriteAsync(store, set.Id, stream, ct), "text/csv; charset=utf-8", DatasetCsv.FileName(runId));
    }

    public static async Task<Results<Ok<PromotionResponse>, ProblemHttpResult>> Rollback(
        PromotionRequest? body, ClaimsPrincipal user, ModelRegistry registry, IDocumentClassifier classifier, CancellationToken ct) =>
        await Answer(await registry.RollbackAsync(user.GetUserName() ?? "unknown", body?.Reason, ct, body?.From), classifier, ct);

    public static async Task<Results<Ok<PromotionResponse>, ProblemHttpResult>> Reload(IDocumentClassifier classifier, CancellationToken ct)
    {
        var (served, failure) = await PromotionServing.TryReloadAsync(classifier, ct);
        if (failure is not null)
            return PredictionEndpoints.Problem(StatusCodes.Status503ServiceUnavailable, "Champion cannot be loaded",
                $"The promoted champion cannot be loaded: {failure}. " +
                (served is { } run ? $"Run {run} keeps answering." : "The zero-shot model answers meanwhile, when it is on (Inference:ZeroShot)."));
        return served is null
            ? PredictionEndpoints.Problem(StatusCodes.Status503ServiceUnavailable, "No model", "No model has been promoted yet.")
            : TypedResults.Ok(new PromotionResponse(false, served, served, $"serving run {served}"));
    }

    private static async Task<Results<Ok<PromotionResponse>, ProblemHttpResult>> Answer(PromotionResult result, IDocumentClassifier classifier, CancellationToken ct)
    {
        if (!result.Promoted)
            return PredictionEndpoints.Problem(StatusCodes.Status409Conflict, "Not promoted", result.Message);
        var (served, message) = await PromotionServing.TakeAsync(result, classifier, ct);
        return TypedResults.Ok(new PromotionResponse(true, result.ChampionRunId, served, message));
    }
}

/// <summary>What a promotion or a rollback changes in this process: the API and the models page say the same.</summary>
public static class PromotionServing
{
    /// <summary>
    /// After a recorded promotion: loads the new champion here and returns what serves with a message that says so. The
    /// change is recorded either way: a champion this process cannot load is said, not answered with an error.
    /// </summary>
    public static async Task<(long? Served, string Message)> TakeAsync(PromotionResult result, IDocumentClassifier classifier, CancellationToken ct)
    {
        if (!result.Promoted) return (classifier.ModelRunId, result.Message);
        var (served, failure) = await TryReloadAsync(classifier, ct);
        return (served, failure is null ? result.Message
            : $"{result.Message}; this process cannot load it ({failure}) and serves run {served?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} meanwhile");
    }

    internal static async Task<(long? Served, string? Failure)> TryReloadAsync(IDocumentClassifier classifier, CancellationToken ct)
    {
        try
        {
            return (await classifier.ReloadAsync(ct), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The load's failure as the status says it (without the server's paths) when it was the champion's.
            return (classifier.ModelRunId, classifier.ChampionLoadFailure ?? ex.Message);
        }
    }
}
