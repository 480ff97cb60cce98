using System.Globalization;
using System.Text.Json;
using Dsdc.Training;

namespace Dsdc.Web.Ui;

/// <summary>A run as people read it: its approach in words, its training time, its parameters as rows, its scores.</summary>
public static class RunDisplay
{
    /// <summary>The approach named by the parameters' <c>approach</c> field (the original's MLPs have none).</summary>
    public static string Approach(string parametersJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(parametersJson);
            var approach = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("approach", out var a) ? a.GetString() : null;
            return approach switch
            {
                FusedParameters.Approach => "ridge per view, stacked",
                "views" => "multi-view network",
                null => "MLP on the embedding",
                _ => approach,
            };
        }
        catch (JsonException)
        {
            return "–";
        }
    }

    /// <summary>"0.4 s", "12.3 s", "4 min 05 s", "1 h 02 min"; "–" when not recorded.</summary>
    public static string Duration(long? milliseconds)
    {
        if (milliseconds is not { } ms) return "–";
        var t = TimeSpan.FromMilliseconds(ms);
        return t.TotalSeconds < 60 ? (ms / 1000.0).ToString("0.0 s", CultureInfo.InvariantCulture)
            : t.TotalHours < 1 ? $"{(int)t.TotalMinutes} min {t.Seconds:00} s"
            : $"{(int)t.TotalHours} h {t.Minutes:00} min";
    }

    /// <summary>The parameters as (name, value) rows: nested objects by dotted names, lists of values joined, lists of objects numbered.</summary>
    public static IReadOnlyList<(string Name, string Value)> Parameters(string parametersJson)
    {
        var rows = new List<(string, string)>();
        try
        {
            using var doc = JsonDocument.Parse(parametersJson);
            Flatten(doc.RootElement, "", rows);
        }
        catch (JsonException)
        {
            rows.Add(("parameters", parametersJson));
        }
        return rows;
    }

    private static void Flatten(JsonElement e, string prefix, List<(string, string)> rows)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Flatten(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}", rows);
                break;
            case JsonValueKind.Array when e.EnumerateArray().All(x => x.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)):
                rows.Add((prefix, string.Join(", ", e.EnumerateArray().Select(Scalar))));
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var x in e.EnumerateArray()) Flatten(x, $"{prefix}[{++i}]", rows);
                break;
            default:
                rows.Add((prefix.Length == 0 ? "value" : prefix, Scalar(e)));
                break;
        }
    }

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l.ToString(CultureInfo.InvariantCulture) : e.GetDouble().ToString("G4", CultureInfo.InvariantCulture),
        JsonValueKind.Null => "–",
        _ => e.GetRawText(),
    };

    /// <summary>
    /// What a count of these scores stands for: cross-validation pools its out-of-fold answers over its repeats, so each
    /// labelled document is counted once per repeat (a class of 10 documents has a support of 30 over 3 repeats).
    /// </summary>
    public static string CountsNote(ModelScores scores) => scores.Estimate is { Repeats: > 1 } e
        ? $"each document counted {e.Repeats} times, once per repeat of the cross-validation"
        : "each document counted once";

    /// <summary>The recorded scores of a run (per-class metrics, confusion matrix, cross-validated estimate), or null.</summary>
    public static async Task<ModelScores?> ScoresAsync(TrainingStore store, long runId, CancellationToken ct)
    {
        if (await store.MetricsJsonAsync(runId, ct) is not { Length: > 0 } json) return null;
        try { return JsonSerializer.Deserialize<ModelScores>(json, ModelManifest.Json); }
        catch (JsonException) { return null; }
    }

    /// <summary>Best first: succeeded runs by accuracy then macro-F1, then the others, newest first.</summary>
    public static IReadOnlyList<RunSummary> BestFirst(IEnumerable<RunSummary> runs) =>
        runs.OrderByDescending(r => r.Status == "succeeded" && r.TestAccuracy is not null)
            .ThenByDescending(r => r.TestAccuracy ?? double.MinValue).ThenByDescending(r => r.TestMacroF1 ?? double.MinValue)
            .ThenByDescending(r => r.Id).ToList();
}
