using static TorchSharp.torch;

namespace Dsdc.Tests.Training;

/// <summary>TorchSharp's native library loads here (Debian 12: only after build/TorchSharpGlibcxx.targets weakened GLIBCXX_3.4.32).</summary>
public sealed class TorchSharpLoadTests
{
    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        using var one = ones(1);
        using var sum = one.sum();
        Assert.Equal(1f, sum.item<float>());
    }

    [Fact]
    public void CopiedNativeLibraryAsksForGlibcxx332OnlyWeakly()
    {
        var lib = Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).First();
        var readelf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("readelf", ["-V", lib]) { RedirectStandardOutput = true })!;
        var output = readelf.StandardOutput.ReadToEnd();
        readelf.WaitForExit();
        var line = output.Split('\n').Single(l => l.Contains("Name: GLIBCXX_3.4.32", StringComparison.Ordinal));
        Assert.Contains("WEAK", line, StringComparison.Ordinal);
    }
}
