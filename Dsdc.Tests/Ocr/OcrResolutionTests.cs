using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Dsdc.Tests.ImageProcessing;

namespace Dsdc.Tests.Ocr;

public sealed class OcrResolutionTests
{
    [Theory]
    [InlineData(795, 1000, 72, 91)]      // an RVL-CDIP page: 72 dpi declared would make it a 14-inch page
    [InlineData(754, 1000, 0, 91)]       // none declared
    [InlineData(2550, 3300, 300, 300)]   // a letter page at 300 dpi
    [InlineData(1000, 1400, 600, 600)]   // a small cutting scanned at 600 dpi keeps its resolution
    public void APagesResolutionIsTheDeclaredOneUnlessItsSizeSaysMore(int width, int height, int declared, int expected) =>
        Assert.Equal(expected, OcrResolution.Effective(width, height, declared));

    [Fact]
    public void OnlyPagesBelowTheMinimumAreScaledWithinTheLimits()
    {
        Assert.Equal(200.0 / 91, OcrResolution.UpscaleFactor(795, 1000, 91, 200, 100_000_000), 6);
        Assert.Equal(1, OcrResolution.UpscaleFactor(795, 1000, 91, 0, 100_000_000));          // off
        Assert.Equal(1, OcrResolution.UpscaleFactor(2550, 3300, 300, 200, 100_000_000));      // already enough
        Assert.Equal(1, OcrResolution.UpscaleFactor(2550, 3300, 180, 200, 100_000_000));      // 1.11x: not worth it
        Assert.Equal(OcrResolution.MaxFactor, OcrResolution.UpscaleFactor(400, 500, 20, 300, 100_000_000));
        // The pixel limit wins: 795 x 1000 x f^2 <= 2,000,000.
        Assert.Equal(Math.Sqrt(2_000_000 / (795.0 * 1000)), OcrResolution.UpscaleFactor(795, 1000, 91, 300, 2_000_000), 6);
    }

    [Fact]
    public async Task ALowResolutionScanIsScaledUpBeforeOcrAndReadAtLeastAsWell()
    {
        var ct = TestContext.Current.CancellationToken;
        using var plain = new ImagingServices(new Dictionary<string, string?> { ["Ocr:MaxConcurrency"] = "1" });
        using var scaled = new ImagingServices(new Dictionary<string, string?> { ["Ocr:MaxConcurrency"] = "1", ["Ocr:MinimumDpi"] = "200" });

        var before = await plain.TextExtractor.ExtractAsync(TestDocuments.G4Paper, DocumentFormat.Tiff, ct);
        var after = await scaled.TextExtractor.ExtractAsync(TestDocuments.G4Paper, DocumentFormat.Tiff, ct);

        Assert.Matches(@"^5\.\d+\.\d+;eng;psm=3;min-dpi=200;readings=6\+11$", after.ProcessorVersion);
        Assert.Contains("Structural proteins", after.Text);
        Assert.True(after.MeanConfidence >= before.MeanConfidence,
            $"mean confidence {before.MeanConfidence} at the file's resolution, {after.MeanConfidence} scaled up");
    }
}
