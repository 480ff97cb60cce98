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

    [Fact]
    public void TheStartStopTestAndResetScriptsExist()
    {
        foreach (var name in new[] { "start.sh", "stop.sh", "test.sh", "hard-reset.sh" })
            Assert.True(File.Exists(RepositoryFiles.PathOf(Path.Combine("scripts", name))), $"scripts/{name} is missing");
    }
}
