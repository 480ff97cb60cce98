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

    [Fact]
    public void ThePoolSizeDefaultsToTheProcessorCount()
    {
        using var services = new ImagingServices();

        Assert.Equal(Environment.ProcessorCount, services.Get<IOptions<OcrOptions>>().Value.EffectiveConcurrency);
    }
}
