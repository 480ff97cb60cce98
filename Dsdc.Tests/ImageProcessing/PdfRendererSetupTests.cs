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
        }
        finally
        {
            File.Delete(fake);
        }
    }
}
