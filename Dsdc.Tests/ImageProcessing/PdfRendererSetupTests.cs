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
}
