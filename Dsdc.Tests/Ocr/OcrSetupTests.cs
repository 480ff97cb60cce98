using Dsdc.Ocr;
using Dsdc.Ocr.Native;
using Dsdc.Tests.ImageProcessing;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Ocr;

public sealed class OcrSetupTests
{
    [Fact]
    public void TesseractRunsWithOpenMpLimitedToOneThread()
    {
        // The test process loads Tesseract before anything else (Infrastructure/NativeLoadOrder), as the app does at start,
        // so libtorch's own OpenMP runtime, loaded later by the training tests, never takes Tesseract's calls.
        var limit = NativeRuntime.EnsureTesseractLoaded();
        Assert.Equal(1, limit);
    }

    [Fact]
    public void TheOpenMpLimitIsRestoredInTheNativeEnvironmentOnceTesseractIsLoaded()
    {
        NativeRuntime.EnsureTesseractLoaded();

        // The managed copy of the environment is the one the process started with.
        Assert.Equal(Environment.GetEnvironmentVariable("OMP_THREAD_LIMIT"), NativeRuntime.NativeEnvironmentVariable("OMP_THREAD_LIMIT"));
    }

    [Fact]
    public void AMissingLanguageStopsStartupNamingTheKey()
    {
        using var services = new ImagingServices(new Dictionary<string, string?> { ["Ocr:Languages"] = "eng+xyz" });

        var error = Assert.Throws<OptionsValidationException>(() => services.Get<IOptions<OcrOptions>>().Value);

        Assert.Contains("Ocr:Languages", error.Message);
        Assert.Contains("eng+xyz", error.Message);
    }

    [Fact]
    public void AMissingTessdataFolderStopsStartupNamingTheKey()
    {
        using var services = new ImagingServices(new Dictionary<string, string?> { ["Ocr:TessdataPath"] = "/nonexistent/tessdata" });

        var error = Assert.Throws<OptionsValidationException>(() => services.Get<IOptions<OcrOptions>>().Value);

        Assert.Contains("Ocr:TessdataPath", error.Message);
    }

    [Theory]
    [InlineData("6,x", "page segmentation modes separated by commas")]
    [InlineData("6,2", "mode 2 reads no text")]
    [InlineData("0", "mode 0 reads no text")]
    [InlineData("14", "mode 14 reads no text")]
    public void ExtraReadingsInModesThatReadNoTextStopStartupNamingTheKey(string modes, string expected)
    {
        using var services = new ImagingServices(new Dictionary<string, string?> { ["Ocr:ExtraReadings"] = modes });

        var error = Assert.Throws<OptionsValidationException>(() => services.Get<IOptions<OcrOptions>>().Value);

        Assert.Contains("ExtraReadings", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("6,11", new[] { 6, 11 })]
    [InlineData(" 11 , 6 ,11", new[] { 11, 6 })]
    [InlineData("3,6", new[] { 6 })] // the main mode is read once
    [InlineData("", new int[0])]
    public void ExtraReadingModesAreReadInOrderWithoutRepeatsOrTheMainMode(string modes, int[] expected) =>
        Assert.Equal(expected, new OcrOptions { ExtraReadings = modes }.ExtraReadingModes);

    [Fact]
    public void ThePoolSizeDefaultsToTheProcessorCount()
    {
        using var services = new ImagingServices();

        Assert.Equal(Environment.ProcessorCount, services.Get<IOptions<OcrOptions>>().Value.EffectiveConcurrency);
    }
}
