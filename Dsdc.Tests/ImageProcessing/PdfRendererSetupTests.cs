using Dsdc.ImageProcessing;
using Dsdc.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.ImageProcessing;

/// <summary>mutool missing is the setup's problem, not the document's: the stages do not count it against the PDF.</summary>
public sealed class PdfRendererSetupTests
{
    [Fact]
    public void AMissingMutoolIsASetupProblemThatNoDocumentIsBlamedFor()
    {
        var renderer = new PdfPageRenderer(Options.Create(new ImagingOptions { MutoolPath = "/nonexistent/mutool" }), NullLogger<PdfPageRenderer>.Instance);

        var failure = Assert.Throws<PdfRendererSetupException>(() =>
            renderer.Render(TestDocuments.TwoPageTextPdf, [1], 72, PageColor.Grey, TestContext.Current.CancellationToken));

        Assert.Contains("Imaging:MutoolPath", failure.Message);
        Assert.False(PipelineStages.IsDocumentProblem(failure));
        Assert.False(PipelineStages.IsDocumentProblem(new Dsdc.Ocr.OcrSetupException("no eng.traineddata")));
        Assert.True(PipelineStages.IsDocumentProblem(new InvalidDocumentException(Refusal.Corrupt, "damaged")));
        // Memory running out is the machine's (counted as a death on the document instead), however it is wrapped.
        Assert.False(PipelineStages.IsDocumentProblem(new AggregateException(new InvalidOperationException("a step failed", new OutOfMemoryException()))));
    }

    /// <summary>A process that died while mutool rendered leaves its folder; the next process removes the stale ones,
    /// never one a live render is writing into.</summary>
    [Fact]
    public void RenderingFoldersLeftByAProcessThatDiedAreRemovedOnceStale()
    {
        var root = Directory.CreateTempSubdirectory("dsdc-sweep-test-").FullName;
        try
        {
            var stale = Directory.CreateDirectory(Path.Combine(root, PdfPageRenderer.TempPrefix + "stale")).FullName;
            File.WriteAllText(Path.Combine(stale, "page-1.pnm"), "P5");
            Directory.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-2));
            var live = Directory.CreateDirectory(Path.Combine(root, PdfPageRenderer.TempPrefix + "live")).FullName;
            var other = Directory.CreateDirectory(Path.Combine(root, "someone-else")).FullName;
            Directory.SetLastWriteTimeUtc(other, DateTime.UtcNow.AddDays(-2));

            var removed = PdfPageRenderer.SweepLeftovers(root, TimeSpan.FromDays(1));

            Assert.Equal(1, removed);
            Assert.False(Directory.Exists(stale));
            Assert.True(Directory.Exists(live));
            Assert.True(Directory.Exists(other));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A mutool killed from outside (the out-of-memory killer) or short of disk space is the machine's problem:
    /// the PDF is not refused for it; a mutool that fails on its own still refuses the document.</summary>
    [Theory]
    [InlineData("kill -9 $$", false)]
    [InlineData("echo 'error: cannot write output: No space left on device' >&2; exit 1", false)]
    [InlineData("echo 'error: cannot recognize xref format' >&2; exit 1", true)]
    public void AMutoolStoppedByTheMachineIsNotTheDocumentsFault(string script, bool documentsFault)
    {
        var fake = Path.Combine(Path.GetTempPath(), $"dsdc-fake-mutool-{Guid.NewGuid():N}.sh");
        File.WriteAllText(fake, "#!/bin/sh\n" + script + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var renderer = new PdfPageRenderer(Options.Create(new ImagingOptions { MutoolPath = fake }), NullLogger<PdfPageRenderer>.Instance);

            var failure = Assert.ThrowsAny<Exception>(() =>
                renderer.Render(TestDocuments.TwoPageTextPdf, [1], 72, PageColor.Grey, TestContext.Current.CancellationToken));

            Assert.Equal(documentsFault, PipelineStages.IsDocumentProblem(failure));
            // Killed: counted as a death of the worker on the document (as managed memory running out), so that a PDF
            // that gets mutool killed every time is tried alone and then given up instead of failing every run.
            Assert.Equal(script.StartsWith("kill -9", StringComparison.Ordinal), PipelineStages.IsOutOfMemory(failure));
        }
        finally
        {
            File.Delete(fake);
        }
    }
}
