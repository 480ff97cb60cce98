using System.Globalization;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Dsdc.Inference.Api;

/// <summary>
/// A document's current label as a versioned HTTP resource (RFC 9110, 8.8.3 and 13.1). Its entity tag names the label a
/// person or a dataset set and when, so that a client that read it writes a correction only while nobody changed it
/// since (<c>If-Match</c>), and one that found no label writes one only while there is still none
/// (<c>If-None-Match: *</c>). Without either header a label is written as before: an explicit correction.
/// </summary>
public static class LabelVersions
{
    /// <summary>The strong entity tag of a current label: the label row's id (rows are never changed, so a label written
    /// again, even the same class, is a new version) and its class, for people reading it.</summary>
    public static string ETag(long labelId, short label) => string.Create(CultureInfo.InvariantCulture, $"\"{labelId}-{label}\"");

    public static string ETag(LabelEntry label) => ETag(label.Id, label.Label);

    /// <summary>A current label in words: <c>"memo" (by alice, 2026-12-05 18:00:01 UTC)</c>.</summary>
    public static string Describe(LabelEntry label) => string.Create(CultureInfo.InvariantCulture,
        $"\"{DocumentClasses.NameOf(label.Label)}\" ({(label.Source == "human" ? $"by {label.CreatedBy ?? "a person"}" : "from the dataset")}, {label.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC)");

    /// <summary>
    /// Reads <c>If-Match</c> and <c>If-None-Match</c>: null when the request sends neither. False, with
    /// <paramref name="error"/>, when one is not a list of quoted entity tags or <c>*</c>.
    /// </summary>
    public static bool TryReadPrecondition(HttpRequest request, out LabelPrecondition? precondition, out string? error)
    {
        precondition = null;
        error = null;
        if (!TryParse(request.Headers.IfMatch, HeaderNames.IfMatch, out var ifMatch, ref error)
            || !TryParse(request.Headers.IfNoneMatch, HeaderNames.IfNoneMatch, out var ifNoneMatch, ref error))
            return false;
        if (ifMatch is not null || ifNoneMatch is not null) precondition = new LabelPrecondition(ifMatch, ifNoneMatch);
        return true;
    }

    /// <summary>Declares the two headers in the OpenAPI document (they are read from the request, not bound).</summary>
    public static Task DeclarePreconditions(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        operation.Parameters ??= [];
        foreach (var (name, what) in new[]
                 {
                     (HeaderNames.IfMatch, "The label's version (its ETag) the request expects, or '*' for any label: otherwise 412."),
                     (HeaderNames.IfNoneMatch, "'*': the request expects no label; ETags: a label other than these. Otherwise 412 on a write, 304 on a read."),
                 })
            if (!operation.Parameters.Any(p => p.Name == name && p.In == ParameterLocation.Header))
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name, In = ParameterLocation.Header, Required = false, Description = what,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
        return Task.CompletedTask;
    }

    private static bool TryParse(StringValues values, string header, out IList<EntityTagHeaderValue>? tags, ref string? error)
    {
        tags = null;
        if (values.Count == 0) return true;
        if (EntityTagHeaderValue.TryParseStrictList(values.ToArray()!, out tags) && tags.Count > 0) return true;
        error = $"{header} must be '*' or a list of quoted entity tags such as \"1234-3\", as "
            + "GET /api/v1/documents/{id}/label sends in its ETag header.";
        return false;
    }
}

/// <summary>The conditions a label write was sent with; each list is null when its header was not sent.</summary>
public sealed record LabelPrecondition(IList<EntityTagHeaderValue>? IfMatch, IList<EntityTagHeaderValue>? IfNoneMatch)
{
    /// <summary>
    /// Whether the write may go ahead over <paramref name="current"/> (null: the document has no label). <c>If-Match</c>
    /// compares strongly (a weak tag never matches; <c>*</c>: some label exists); <c>If-None-Match</c> weakly (<c>*</c>: no
    /// label exists; a list: the label is none of them).
    /// </summary>
    public bool HoldsFor(LabelEntry? current)
    {
        var tag = current is null ? null : LabelVersions.ETag(current);
        if (IfMatch is not null
            && !(tag is not null && IfMatch.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag.Equals(tag, StringComparison.Ordinal)))))
            return false;
        if (IfNoneMatch is not null
            && tag is not null && IfNoneMatch.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Equals(tag, StringComparison.Ordinal)))
            return false;
        return true;
    }

    /// <summary>Why the request was refused, in words, for the problem's detail (<paramref name="write"/>: a label's POST).</summary>
    public static string Refusal(string documentId, LabelEntry? current, bool write = true)
    {
        var now = current is null
            ? "The document has no label now"
            : $"The document is labelled {LabelVersions.Describe(current)} now, ETag {LabelVersions.ETag(current)}";
        return now + ", not as the request's If-Match or If-None-Match expected." + (write
            ? $" Nothing was written: read the label again (GET /api/v1/documents/{documentId}/label) and send its ETag in If-Match to replace it."
            : "");
    }
}
