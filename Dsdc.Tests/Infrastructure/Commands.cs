using System.Diagnostics;

namespace Dsdc.Tests.Infrastructure;

/// <summary>A program of the machine run to its end (mount, umount...), its output discarded.</summary>
internal static class Commands
{
    /// <summary>True when <paramref name="file"/> exits 0.</summary>
    public static async Task<bool> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        await p.WaitForExitAsync(CancellationToken.None);
        return p.ExitCode == 0;
    }
}
