using Dsdc.Inference.Review;
using Dsdc.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dsdc.Inference.Api;

/// <summary>The review queue over the API, for labelling tools: the documents a person should decide next, most useful
/// first (<see cref="ReviewQueue"/>, the order of the <c>/review</c> page).</summary>
internal static class ReviewEndpoints
{
    public const int MaxLimit = 100;

    /// <summary><c>GET /api/v1/review?limit=20</c> (1 to <see cref="MaxLimit"/>).</summary>
    public static async Task<Ok<ReviewResponse>> Next(int? limit, ReviewQueue queue, CancellationToken ct)
    {
        var items = await queue.NextAsync(Math.Clamp(limit ?? 20, 1, MaxLimit), ct);
        var waiting = items.Count > 0 ? items[0].Total : await queue.CountAsync(ct);
        return TypedResults.Ok(new ReviewResponse(waiting, items.Select(Entry).ToList()));
    }

    private static ReviewEntry Entry(ReviewItem i) => new(i.DocumentId, i.OriginalName, i.IngestedAt, i.PredictionId, i.Predicted,
        i.Predicted is { } p ? DocumentClasses.NameOf(p) : null, i.TopProbability, i.NeedsReview,
        i.Top(3).Select(t => new ClassProbability(t.Label, DocumentClasses.NameOf(t.Label), t.Probability)).ToList(),
        i.CurrentLabel, i.CurrentLabel is { } l ? DocumentClasses.NameOf(l) : null, i.LabelSource,
        i is { CurrentLabel: { } label, LabelId: { } labelId } ? LabelVersions.ETag(labelId, label) : null);
}
