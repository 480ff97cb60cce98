using System.Text.RegularExpressions;
using Dsdc.Tests.Deployment;

namespace Dsdc.Tests.Monitoring;

/// <summary>
/// monitoring/prometheus/alerts.yml: Debian's promtool accepts it and its unit tests (alerts.test.yml: each alert fires
/// on made-up series when it should, not before), and every alert reads metrics the running app serves.
/// </summary>
[Collection(ObservedApp.Collection)]
public sealed partial class AlertTests(ObservedApp app)
{
    private const string Rules = "monitoring/prometheus/alerts.yml";

    private static string Promtool() => RepositoryFiles.FindOnPath("promtool")
        ?? throw new InvalidOperationException("promtool is not installed: run the tests with scripts/test.sh (scripts/lib/install-deps.sh --test installs Debian's prometheus).");

    [Fact]
    public async Task PromtoolAcceptsTheRulesAndTheirUnitTestsPass()
    {
        var check = await RepositoryFiles.RunAsync(Promtool(), ["check", "rules", RepositoryFiles.PathOf(Rules)]);
        var tests = await RepositoryFiles.RunAsync(Promtool(), ["test", "rules", RepositoryFiles.PathOf("monitoring/prometheus/alerts.test.yml")]);

        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("SUCCESS: 11 rules found", check.Output);
        Assert.True(tests.ExitCode == 0, tests.Output);
        Assert.Contains("SUCCESS", tests.Output);
        // Prometheus loads them: the configuration names the file, and compose mounts it beside the configuration.
        Assert.Contains("rule_files:\n  - alerts.yml", RepositoryFiles.Read("monitoring/prometheus/prometheus.yml"));
        Assert.Contains("./monitoring/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro", RepositoryFiles.Read("docker-compose.yml"));
    }

    [Fact]
    public void EveryAlertReadsMetricsTheAppExposes()
    {
        var exposed = ObservedApp.FamiliesWithSamples(app.Scrape);
        var series = exposed.SelectMany(f => new[] { f, f + "_bucket", f + "_sum", f + "_count" }).Append("up").ToHashSet();
        var expressions = Expression().Matches(RepositoryFiles.Read(Rules)).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(11, expressions.Count);
        Assert.Empty(expressions.SelectMany(e => DashboardTests.MetricNames(e).Where(n => !series.Contains(n)).Select(n => $"{n} in {e}")));
    }

    [GeneratedRegex(@"^\s+expr: (.+)$", RegexOptions.Multiline)]
    private static partial Regex Expression();
}
