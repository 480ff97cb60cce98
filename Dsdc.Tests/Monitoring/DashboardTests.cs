using System.Text.Json;
using System.Text.RegularExpressions;
using Dsdc.Tests.Deployment;

namespace Dsdc.Tests.Monitoring;

/// <summary>The Grafana dashboards of monitoring/grafana/dashboards: they parse, and every query names a metric the app serves.</summary>
[Collection(ObservedApp.Collection)]
public sealed partial class DashboardTests(ObservedApp app)
{
    private static readonly string[] Expected = ["infrastructure.json", "model-performance.json", "pipelines.json"];

    // PromQL words that look like metric names: functions are followed by '(', these are not always.
    private static readonly HashSet<string> Keywords = ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"];

    private static IEnumerable<(string File, JsonElement Dashboard)> Dashboards() =>
        Directory.EnumerateFiles(RepositoryFiles.PathOf("monitoring/grafana/dashboards"), "*.json")
            .Select(f => (Path.GetFileName(f), JsonDocument.Parse(File.ReadAllText(f)).RootElement.Clone()));

    private static IEnumerable<string> Expressions(JsonElement dashboard) =>
        dashboard.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.TryGetProperty("targets", out var t) ? t.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(t => t.GetProperty("expr").GetString()!);

    /// <summary>The metric names of a PromQL expression: identifiers that are not functions, keywords, label names or values.</summary>
    public static IReadOnlySet<string> MetricNames(string expr)
    {
        var stripped = Strings().Replace(expr, "\"\"");
        stripped = Matchers().Replace(stripped, "");
        stripped = Grouping().Replace(stripped, "");
        stripped = Ranges().Replace(stripped, "");
        return Identifier().Matches(stripped)
            .Where(m => !m.Groups[2].Success && !Keywords.Contains(m.Groups[1].Value.ToLowerInvariant()))
            .Select(m => m.Groups[1].Value)
            .ToHashSet();
    }

    [Fact]
    public void TheThreeDashboardsParseAndQueryTheProvisionedPrometheus()
    {
        var dashboards = Dashboards().ToList();

        Assert.Equal(Expected.Order(), dashboards.Select(d => d.File).Order());
        var datasource = File.ReadAllText(RepositoryFiles.PathOf("monitoring/grafana/provisioning/datasources/prometheus.yml"));
        var uid = Regex.Match(datasource, @"uid:\s*(\S+)").Groups[1].Value;
        Assert.NotEmpty(uid);
        foreach (var (file, dashboard) in dashboards)
        {
            Assert.False(string.IsNullOrWhiteSpace(dashboard.GetProperty("uid").GetString()), file);
            Assert.NotEmpty(Expressions(dashboard));
            foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
                Assert.Equal(uid, panel.GetProperty("datasource").GetProperty("uid").GetString());
        }
        Assert.Equal(dashboards.Count, dashboards.Select(d => d.Dashboard.GetProperty("uid").GetString()).Distinct().Count());
    }

    [Fact]
    public void EveryDashboardQueryNamesAMetricTheAppExposes()
    {
        var exposed = ObservedApp.FamiliesWithSamples(app.Scrape);
        // Histograms are queried through their series; Prometheus itself adds 'up'.
        var series = exposed.SelectMany(f => new[] { f, f + "_bucket", f + "_sum", f + "_count" }).Append("up").ToHashSet();
        var missing = Dashboards()
            .SelectMany(d => Expressions(d.Dashboard).SelectMany(e => MetricNames(e).Select(n => $"{d.File}: {n} in {e}")))
            .Where(s => !series.Contains(s.Split(' ')[1]))
            .ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void MetricNamesAreReadFromPromQlWithoutFunctionsLabelsOrRanges()
    {
        var names = MetricNames("histogram_quantile(0.95, sum by (le, endpoint) (rate(http_request_duration_seconds_bucket{code=\"2xx\"}[5m]))) / max(up)");

        Assert.Equal(["http_request_duration_seconds_bucket", "up"], names.Order());
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", RegexOptions.IgnoreCase)]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")]
    private static partial Regex Identifier();
}
