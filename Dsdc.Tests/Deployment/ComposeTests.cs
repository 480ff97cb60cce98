using System.Text.RegularExpressions;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Deployment;

/// <summary>
/// docker-compose.yml checked by the real Compose tool (Debian's <c>docker-compose</c>, which scripts/test.sh installs;
/// <c>docker compose</c> works too). No Docker engine is needed: <c>config</c> only parses, interpolates and validates.
/// </summary>
public sealed partial class ComposeTests
{
    private const string ComposeFile = "docker-compose.yml";
    private const string ExampleEnv = ".env.example";

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", RegexOptions.Multiline)]
    private static partial Regex EnvLine();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex VariableReference();

    private static Dictionary<string, string> ExampleSettings() =>
        EnvLine().Matches(RepositoryFiles.Read(ExampleEnv)).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());

    /// <summary>Runs <c>config</c> with the given env file and nothing from the developer's own environment.</summary>
    private static async Task<RepositoryFiles.Result> ComposeConfigAsync(string envFile)
    {
        var known = ExampleSettings().Keys.ToHashSet();
        bool Foreign(string key) => known.Contains(key) || key.StartsWith("COMPOSE_", StringComparison.Ordinal);
        string[] args = ["-f", RepositoryFiles.PathOf(ComposeFile), "--project-directory", RepositoryFiles.Root, "--env-file", envFile, "config"];

        if (RepositoryFiles.FindOnPath("docker-compose") is { } v1)
            return await RepositoryFiles.RunAsync(v1, args, removeEnvironment: Foreign);
        if (RepositoryFiles.FindOnPath("docker") is { } docker
            && (await RepositoryFiles.RunAsync(docker, ["compose", "version"])).ExitCode == 0)
            return await RepositoryFiles.RunAsync(docker, ["compose", .. args], removeEnvironment: Foreign);
        throw new InvalidOperationException(
            "docker-compose is not installed: run the tests with scripts/test.sh, which installs it (scripts/lib/install-deps.sh --test).");
    }

    /// <summary>.env.example with every empty value filled in, as an operator's .env would be.</summary>
    private static string FilledEnvFile(ScratchFolder into)
    {
        var path = into.File(".env");
        var lines = ExampleSettings().Select(kv => $"{kv.Key}={(kv.Value.Length > 0 ? kv.Value : "filled-" + kv.Key.ToLowerInvariant())}");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task TheComposeFileIsValidOnceEverySettingOfTheExampleIsFilledIn()
    {
        using var scratch = new ScratchFolder("dsdc-compose-");
        var result = await ComposeConfigAsync(FilledEnvFile(scratch));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("filled-postgres_password", result.StdOut);
    }

    [Fact]
    public async Task TheComposeFileRefusesToRunWhileASecretIsLeftEmpty()
    {
        var result = await ComposeConfigAsync(RepositoryFiles.PathOf(ExampleEnv));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("in .env (see .env.example)", result.Output);
    }

    [Fact]
    public async Task TheAppWaitsForAHealthyDatabaseAndIsPublishedOnLoopbackOnly()
    {
        using var scratch = new ScratchFolder("dsdc-compose-");
        var result = await ComposeConfigAsync(FilledEnvFile(scratch));
        var config = result.StdOut;

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("pgvector/pgvector:pg17", config);
        Assert.Contains("condition: service_healthy", config);
        Assert.Contains("pg_isready", config);
        // docker-compose prints "127.0.0.1:8080:8080/tcp"; docker compose prints host_ip and published separately.
        Assert.Matches(@"127\.0\.0\.1:8080:8080|host_ip: 127\.0\.0\.1", config);
        Assert.DoesNotMatch(@"(?m)^\s*-\s*""?(0\.0\.0\.0:)?\d+:\d+", config);
        Assert.Contains("ConnectionStrings__Dsdc: Host=db;", config);
        foreach (var volume in new[] { "db-data:/var/lib/postgresql/data", "dsdc-data:/app/data", "dsdc-models:/app/models" })
            Assert.Contains(volume, config);
    }

    [Fact]
    public async Task WorkersRunTheSameImageAsWorkersWithNothingPublishedSoTheyScale()
    {
        using var scratch = new ScratchFolder("dsdc-compose-");
        var result = await ComposeConfigAsync(FilledEnvFile(scratch));
        var worker = Service(result.StdOut, "worker");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("image: dsdc:latest", worker);
        Assert.Matches(@"command:\s*(-\s*)?\[?'?""?worker", worker);
        Assert.Contains("Jobs__Queues__0: ocr", worker);
        Assert.DoesNotContain("Jobs__Queues__3", worker); // training stays with the app: one run at a time
        Assert.DoesNotContain("ports:", worker);          // a published port or a container name would block --scale
        Assert.DoesNotContain("container_name:", worker);
        Assert.Contains("dsdc-data:/app/data", worker);
        // The settings the jobs read are the app's and every worker's alike: one block both services merge.
        var file = RepositoryFiles.Read(ComposeFile);
        Assert.Contains("x-dsdc-settings: &dsdc-settings", file);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(file, @"environment:\n\s+<<: \*dsdc-settings").Count);
        Assert.Contains("Auth__SigningKey: filled-dsdc_signing_key", worker);
        Assert.Contains("ConnectionStrings__Dsdc: Host=db;", worker);
    }

    [Fact]
    public async Task PrometheusAndGrafanaRunWithTheRepositorysConfigurationOnLoopbackOnly()
    {
        using var scratch = new ScratchFolder("dsdc-compose-");
        var result = await ComposeConfigAsync(FilledEnvFile(scratch));
        var prometheus = Service(result.StdOut, "prometheus");
        var grafana = Service(result.StdOut, "grafana");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("monitoring/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml", prometheus);
        Assert.Matches(@"127\.0\.0\.1:9090:9090|host_ip: 127\.0\.0\.1", prometheus);
        Assert.Contains("monitoring/grafana/provisioning:/etc/grafana/provisioning", grafana);
        Assert.Contains("monitoring/grafana/dashboards:/var/lib/grafana/dashboards", grafana);
        Assert.Contains("GF_SECURITY_ADMIN_PASSWORD: filled-grafana_admin_password", grafana);
        Assert.Matches(@"127\.0\.0\.1:3000:3000|host_ip: 127\.0\.0\.1", grafana);
        Assert.True(File.Exists(RepositoryFiles.PathOf("monitoring/grafana/dashboards/pipelines.json")), "Grafana's home dashboard");
    }

    /// <summary>The block of one service in <c>config</c>'s output (two-space indented under <c>services:</c>).</summary>
    private static string Service(string config, string name)
    {
        var match = Regex.Match(config, $@"(?ms)^  {name}:\n(.*?)(?=^  \S|^\S|\z)");
        Assert.True(match.Success, $"service {name} is missing");
        return match.Groups[1].Value;
    }

    [Fact]
    public void TheComposeFileUsesOnlyVariablesThatTheExampleEnvironmentDefines()
    {
        var compose = RepositoryFiles.Read(ComposeFile).Replace("$$", "", StringComparison.Ordinal);
        var used = VariableReference().Matches(compose)
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)
            .ToHashSet();
        var defined = ExampleSettings().Keys.ToHashSet();

        Assert.NotEmpty(used);
        Assert.Empty(used.Except(defined));
    }

    [Fact]
    public void TheExampleEnvironmentCarriesNoSecretValues()
    {
        var secrets = ExampleSettings().Where(kv => Regex.IsMatch(kv.Key, "PASSWORD|KEY|SECRET|TOKEN"));

        Assert.NotEmpty(secrets);
        Assert.All(secrets, kv => Assert.True(kv.Value.Length == 0, $"{kv.Key} must stay empty in {ExampleEnv}"));
    }

    [Fact]
    public void TheRealEnvFileStaysOutOfGitAndOutOfTheImage()
    {
        static string[] Lines(string file) => RepositoryFiles.Read(file).Split('\n').Select(l => l.Trim()).ToArray();

        Assert.Contains(Lines(".gitignore"), l => l is ".env" or "/.env");
        Assert.Contains(Lines(".dockerignore"), l => l is ".env" or "/.env");
        Assert.Contains(Lines(".gitignore"), l => l is ".dsdc/" or "/.dsdc/");
    }
}
