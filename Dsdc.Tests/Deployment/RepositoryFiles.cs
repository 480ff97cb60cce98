using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Dsdc.Tests.Deployment;

/// <summary>The checkout the tests were built from, and a way to run its tools as an operator would.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>
    /// Above the test binary (a normal build), else above the current folder, else above this source file as the compiler
    /// saw it (a build with <c>--artifacts-path</c> elsewhere, run from anywhere).
    /// </summary>
    private static string FindRoot()
    {
        string[] starts = [AppContext.BaseDirectory, Directory.GetCurrentDirectory(), Path.GetDirectoryName(SourceFile()) ?? "/"];
        foreach (var start in starts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Dsdc.sln"))) return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Dsdc.sln above {string.Join(", ", starts)}: run the tests from a checkout.");
    }

    private static string SourceFile([CallerFilePath] string path = "") => path;

    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public string Output => StdOut + StdErr;
    }

    /// <summary>Runs a program found on PATH; <paramref name="removeEnvironment"/> keeps the developer's settings out.</summary>
    public static async Task<Result> RunAsync(string program, IEnumerable<string> args, string? workingDirectory = null,
        Func<string, bool>? removeEnvironment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Root,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (removeEnvironment is not null)
        {
            foreach (var key in info.Environment.Keys.Where(removeEnvironment).ToList())
                info.Environment.Remove(key);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within a minute");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The full path of a program on PATH, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}
