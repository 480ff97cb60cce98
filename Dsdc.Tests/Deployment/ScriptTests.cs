namespace Dsdc.Tests.Deployment;

/// <summary>The shell scripts of scripts/ and .ci/: they parse, and the ones meant to be run stop on the first error.</summary>
public sealed class ScriptTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(RepositoryFiles.PathOf("scripts"), "*.sh", SearchOption.AllDirectories)
                     .Append(RepositoryFiles.PathOf(".ci/run"))
                     .Select(p => Path.GetRelativePath(RepositoryFiles.Root, p))
                     .Order(StringComparer.Ordinal))
            data.Add(path);
        return data;
    }

    private static bool IsEntryPoint(string relative) => File.ReadLines(RepositoryFiles.PathOf(relative)).FirstOrDefault()?.StartsWith("#!", StringComparison.Ordinal) == true;

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task EveryScriptPassesBashSyntaxCheck(string script)
    {
        var result = await RepositoryFiles.RunAsync("bash", ["-n", script]);

        Assert.True(result.ExitCode == 0, $"bash -n {script}: {result.StdErr}");
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void EveryScriptMeantToBeRunStopsOnTheFirstErrorAndIsExecutable(string script)
    {
        if (!IsEntryPoint(script)) return; // a library sourced by the others: it inherits their settings
        var text = RepositoryFiles.Read(script);

        Assert.Contains("set -euo pipefail", text);
        if (!OperatingSystem.IsWindows())
            Assert.True(File.GetUnixFileMode(RepositoryFiles.PathOf(script)).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable (chmod +x)");
    }

    /// <summary>
    /// start.sh shows the first administrator's credentials only when the app created that account during this start
    /// (its log says so); with a database that already had an administrator it says how to reach that one instead,
    /// since the password in .dsdc/secrets.env would not log in. Either way only once.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheFirstAdministratorIsShownOnlyWhenTheAppCreatedIt(bool created)
    {
        var dir = Directory.CreateTempSubdirectory("dsdc-admin-");
        try
        {
            var log = Path.Combine(dir.FullName, "app.log");
            // An earlier start's line, before this start's log: it must not count.
            await File.WriteAllLinesAsync(log, [
                "[07:58:19 INF] Dsdc.Auth.AdminBootstrapService: Created the first admin admin from Auth:Admin (no enabled admin existed)",
                "===== scripts/start.sh: starting the app",
                created ? "[17:44:54 INF] Dsdc.Auth.AdminBootstrapService: Created the first admin admin from Auth:Admin (no enabled admin existed)" : "[17:44:54 INF] Microsoft.Hosting.Lifetime: Now listening",
            ], TestContext.Current.CancellationToken);
            var script = $"""
                source scripts/lib/dsdc.sh
                DSDC_LOG_FILE='{log}' DSDC_ADMIN_SHOWN='{Path.Combine(dir.FullName, "shown")}'
                Auth__Admin__Username=admin Auth__Admin__Password=Pw0fThisStart
                announce_first_admin 2
                announce_first_admin 2
                """;

            var result = await RepositoryFiles.RunAsync("bash", ["-c", script]);

            Assert.Equal(0, result.ExitCode);
            if (created)
            {
                Assert.Single(result.StdOut.Split('\n'), l => l.Contains("password   Pw0fThisStart", StringComparison.Ordinal));
                Assert.DoesNotContain("already had an administrator", result.StdOut);
            }
            else
            {
                Assert.DoesNotContain("Pw0fThisStart", result.StdOut);
                Assert.Single(result.StdOut.Split('\n'), l => l.Contains("already had an administrator", StringComparison.Ordinal));
                Assert.Contains("Dsdc.Web.dll users set-password NAME", result.StdOut);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        // The phrase the script looks for is the app's own log message.
        Assert.Contains("\"Created the first admin {Username}", RepositoryFiles.Read("Dsdc.Modules/Auth/AdminBootstrapService.cs"));
    }

    [Fact]
    public void TheStartStopTestAndResetScriptsExist()
    {
        foreach (var name in new[] { "start.sh", "stop.sh", "test.sh", "hard-reset.sh" })
            Assert.True(File.Exists(RepositoryFiles.PathOf(Path.Combine("scripts", name))), $"scripts/{name} is missing");
    }
}
