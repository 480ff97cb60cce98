using System.Diagnostics;
using System.Text.Json;
using Dsdc.Tests.Deployment;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Monitoring;

/// <summary>
/// monitoring/prometheus/prometheus.yml checked by Debian's Prometheus (package <c>prometheus</c>, which
/// scripts/lib/install-deps.sh --test installs), and a real Prometheus scraping the running app.
/// </summary>
public sealed class PrometheusTests
{
    private const string Config = "monitoring/prometheus/prometheus.yml";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Tool(string name) => RepositoryFiles.FindOnPath(name)
        ?? throw new InvalidOperationException($"{name} is not installed: run the tests with scripts/test.sh (scripts/lib/install-deps.sh --test installs Debian's prometheus).");

    [Fact]
    public async Task PromtoolAcceptsThePrometheusConfiguration()
    {
        var result = await RepositoryFiles.RunAsync(Tool("promtool"), ["check", "config", RepositoryFiles.PathOf(Config)]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output);
    }

    [Fact]
    public void TheConfigurationScrapesTheAppAndEveryWorkerReplica()
    {
        var config = RepositoryFiles.Read(Config);

        Assert.Contains("\"app:8080\"", config);
        Assert.Contains("names: [\"worker\"]", config);
        Assert.Contains("metrics_path: /metrics", config);
    }

    [Fact]
    public async Task ARealPrometheusScrapesTheRunningApp()
    {
        var prometheus = Tool("prometheus");
        await using var database = await TestDatabase.CreateAsync();
        var data = Directory.CreateTempSubdirectory("dsdc-prom-app-");
        var tsdb = Directory.CreateTempSubdirectory("dsdc-prom-tsdb-");
        try
        {
            await using var app = await RunningApp.StartAsync([], new Dictionary<string, string?>
            {
                ["ConnectionStrings__Dsdc"] = database.ConnectionString,
                ["Dsdc__DataDir"] = Path.Combine(data.FullName, "data"),
                ["Dsdc__ModelsDir"] = Path.Combine(data.FullName, "models"),
                ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
                ["Pipeline__Enabled"] = "false",
                ["Jobs__Server"] = "false",
            });
            // The repository's configuration, pointed at this app and scraping every second.
            var config = RepositoryFiles.Read(Config)
                .Replace("\"app:8080\"", $"\"127.0.0.1:{app.Port}\"", StringComparison.Ordinal)
                .Replace("scrape_interval: 15s", "scrape_interval: 1s", StringComparison.Ordinal)
                .Replace("scrape_timeout: 10s", "scrape_timeout: 1s", StringComparison.Ordinal);
            var configFile = Path.Combine(tsdb.FullName, "prometheus.yml");
            await File.WriteAllTextAsync(configFile, config, Ct);
            var promPort = RunningApp.FreePort();

            var info = new ProcessStartInfo(prometheus) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { $"--config.file={configFile}", $"--storage.tsdb.path={Path.Combine(tsdb.FullName, "data")}", $"--web.listen-address=127.0.0.1:{promPort}" })
                info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var log = new System.Text.StringBuilder();
            process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            process.OutputDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{promPort}"), Timeout = TimeSpan.FromSeconds(5) };
                var up = await PollAsync(client, "up{job=\"dsdc-app\"}", "1", TimeSpan.FromSeconds(90));
                var own = await PollAsync(client, "dsdc_pipeline_backlog{stage=\"ocr\"}", "0", TimeSpan.FromSeconds(30));

                Assert.True(up, $"Prometheus never saw the app up.\n{log}");
                Assert.True(own, $"Prometheus has no sample of the app's own metrics.\n{log}");
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
        finally
        {
            tsdb.Delete(recursive: true);
            data.Delete(recursive: true);
        }
    }

    /// <summary>Queries Prometheus's HTTP API until one series of <paramref name="query"/> has <paramref name="value"/>.</summary>
    private static async Task<bool> PollAsync(HttpClient client, string query, string value, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            try
            {
                using var doc = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}", Ct));
                var results = doc.RootElement.GetProperty("data").GetProperty("result");
                if (results.EnumerateArray().Any(r => r.GetProperty("value")[1].GetString() == value)) return true;
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting
            }
            await Task.Delay(500, Ct);
        }
        return false;
    }
}
