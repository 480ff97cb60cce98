using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Dsdc.ImageProcessing;

/// <summary>
/// One run of MuPDF's <c>mutool</c>, the only code that reads a PDF (its pages, their text layer, their pixels). MuPDF is
/// AGPL, and a process boundary keeps it out of our binary. It also bounds what a hostile or broken PDF can cost the
/// server: a run past its time limit is killed, and what a page takes (a content stream of a few kilobytes that inflates
/// to gigabytes of drawing operators) is the child's memory, not the process that serves the API, the UI and the jobs,
/// and is capped (<see cref="ImagingOptions.MutoolMemoryMegabytes"/>).
/// </summary>
internal static partial class MutoolProcess
{
    // ENOSPC, as the pipeline's disk-full check reads it; 128 + SIGKILL and 128 + SIGTERM as .NET reports them.
    private const int DiskFullHResult = 28, SigKillExit = 137, SigTermExit = 143;

    /// <summary>Runs mutool to its end and returns its exit code and standard error. What it writes to standard output
    /// goes to <paramref name="onOutput"/> as it comes, a block at a time: returning false stops the run (mutool is
    /// killed; <c>Stopped</c> is then true and its exit code means nothing), and an exception it throws (a refusal: too
    /// many pages) stops the run too and is thrown here. A run that needs more memory than
    /// <see cref="ImagingOptions.MutoolMemoryMegabytes"/> is refused as too large. The machine's failures (mutool
    /// missing, killed, out of disk space) throw <see cref="PdfRendererSetupException"/> or <see cref="IOException"/>,
    /// never a refusal of the document.</summary>
    /// <param name="timeout">killed past it, and the document refused as corrupt: <paramref name="timedOut"/> says why</param>
    /// <param name="timedOut">the refusal's message when the run takes longer than <paramref name="timeout"/></param>
    public static (int ExitCode, string Errors, bool Stopped) Run(ImagingOptions options, IReadOnlyList<string> arguments, TimeSpan timeout,
        Func<string> timedOut, Func<ReadOnlyMemory<char>, bool>? onOutput, CancellationToken ct)
    {
        var mutoolPath = options.MutoolPath;
        var info = new ProcessStartInfo(mutoolPath)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var throughShell = OperatingSystem.IsLinux();
        if (throughShell)
        {
            // The shell sets the limit and becomes mutool (exec): its exit code, signals and output are mutool's. A hard
            // limit already lower than this one stays.
            info.FileName = "/bin/sh";
            foreach (var argument in new[] { "-c", "ulimit -v \"$0\" 2>/dev/null; exec \"$@\"", (options.MutoolMemoryMegabytes * 1024L).ToString(CultureInfo.InvariantCulture), mutoolPath })
                info.ArgumentList.Add(argument);
        }
        foreach (var argument in arguments) info.ArgumentList.Add(argument);

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("mutool did not start");
        }
        catch (Win32Exception ex)
        {
            throw Missing(mutoolPath, ex.Message, ex);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            var stopped = false;
            var stdout = Task.Run(async () =>
            {
                try
                {
                    var buffer = new char[4096];
                    int read;
                    while ((read = await process.StandardOutput.ReadAsync(buffer, CancellationToken.None)) > 0)
                    {
                        if (onOutput is null || onOutput(buffer.AsMemory(0, read))) continue;
                        stopped = true;
                        Kill(process);
                        break;
                    }
                }
                catch
                {
                    Kill(process);
                    throw;
                }
            }, CancellationToken.None);
            bool exited;
            using (ct.Register(() => Kill(process)))
                exited = process.WaitForExit(timeout < LongestWait ? timeout : LongestWait);
            if (!exited)
            {
                Kill(process);
                // Its output is the run's no longer: a refusal found in it still wins (it came first).
                Task.WhenAny(stdout, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).GetAwaiter().GetResult();
                if (stdout.IsCompleted) stdout.GetAwaiter().GetResult();
                throw Refusal.Of(Refusal.Corrupt, timedOut());
            }
            process.WaitForExit();
            ct.ThrowIfCancellationRequested();
            stdout.GetAwaiter().GetResult();
            var errors = stderr.GetAwaiter().GetResult().Trim();
            if (stopped) return (process.ExitCode, errors, true);
            // The machine's fault, not the document's: no attempt is counted against it, and the job is tried again.
            if (process.ExitCode != 0 && errors.Contains("No space left on device", StringComparison.OrdinalIgnoreCase))
                throw new IOException($"No space left for mutool's output (mutool: {Tail(errors)}).", DiskFullHResult);
            // Killed (SIGKILL): most often the out-of-memory killer, on this document's pages (a huge embedded image):
            // counted as a death of the worker on it, as when managed memory runs out, so that a document that does it
            // every time is tried alone and then given up instead of failing the stage at every run. Terminated
            // (SIGTERM): the machine stopping; nothing is counted.
            if (process.ExitCode == SigKillExit)
                throw new PdfRendererSetupException(
                    $"mutool was killed while reading the PDF (exit code {process.ExitCode}: as by the out-of-memory killer).",
                    new OutOfMemoryException("mutool was killed while reading this document"));
            if (process.ExitCode == SigTermExit)
                throw new PdfRendererSetupException(
                    $"mutool was stopped from outside while reading the PDF (exit code {process.ExitCode}: terminated).",
                    new OperationCanceledException());
            // The shell could not start mutool (not found, not executable).
            if (throughShell && process.ExitCode is ShellNotFoundExit or ShellNotExecutableExit)
                throw Missing(mutoolPath, Tail(errors), new FileNotFoundException(errors, mutoolPath));
            if (process.ExitCode != 0 && OutOfMemory().IsMatch(errors))
                throw Refusal.Of(Refusal.TooLarge,
                    $"The PDF needs more memory than a PDF may take to be read ({options.MutoolMemoryMegabytes} MB, " +
                    $"{ImagingOptions.Section}:{nameof(ImagingOptions.MutoolMemoryMegabytes)}; mutool: {Tail(errors)}).");
            return (process.ExitCode, errors, false);
        }
    }

    /// <summary>The longest wait <see cref="Process.WaitForExit(TimeSpan)"/> takes (int.MaxValue ms, about 24 days).</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(int.MaxValue);

    private const int ShellNotExecutableExit = 126, ShellNotFoundExit = 127;

    /// <summary>MuPDF's messages when an allocation fails: <c>malloc of 287649792 bytes failed</c>,
    /// <c>realloc (350102016 bytes) failed</c>, <c>calloc (4 x 1024 bytes) failed</c>.</summary>
    [GeneratedRegex(@"\b(?:m|re|c)alloc\b[^\n]*\bfailed\b")]
    private static partial Regex OutOfMemory();

    private static PdfRendererSetupException Missing(string mutoolPath, string why, Exception inner) => new(
        $"Cannot run '{mutoolPath}' to read PDFs ({why}): install mupdf-tools or set " +
        $"{ImagingOptions.Section}:{nameof(ImagingOptions.MutoolPath)}.", inner);

    /// <summary>A name for <paramref name="path"/> that mutool reads as a PDF: it chooses a document's type by its
    /// extension, and an upload or an inbox file may be named anything (a PDF named <c>scan.png</c> is a PDF). A link
    /// to it in <paramref name="folder"/>, the run's own temporary folder.</summary>
    public static string AsPdf(string path, string folder)
    {
        var link = Path.Combine(folder, "document.pdf");
        File.CreateSymbolicLink(link, Path.GetFullPath(path));
        return link;
    }

    /// <summary>Deletes a run's temporary folder (its output, its link), gone already or not.</summary>
    public static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited on its own in the meantime.
        }
    }

    /// <summary>The end of mutool's messages, enough for a refusal's reason.</summary>
    public static string Tail(string text) => text.Length <= 300 ? text : "..." + text[^300..];
}
