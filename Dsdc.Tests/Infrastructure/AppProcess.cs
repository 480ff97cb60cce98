using System.Diagnostics;

namespace Dsdc.Tests.Infrastructure;

/// <summary>Runs the built Dsdc.Web binary as a separate process, as an operator would (CLI commands, bad settings).</summary>
public static class AppProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static string WebAssembly => Path.Combine(AppContext.BaseDirectory, "Dsdc.Web.dll");

    public static async Task<Result> RunAsync(IEnumerable<string> args, IDictionary<string, string?> environment,
        string? standardInput = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(WebAssembly);
        foreach (var a in args) info.ArgumentList.Add(a);
        // Only what the test says: no settings leak in from the developer's environment.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)
                     || k.StartsWith("Dsdc__", StringComparison.Ordinal) || k.StartsWith("Auth__", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        foreach (var (k, v) in environment) info.Environment[k] = v;

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null) await process.StandardInput.WriteAsync(standardInput);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Dsdc.Web {string.Join(' ', args)} did not finish in time");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
