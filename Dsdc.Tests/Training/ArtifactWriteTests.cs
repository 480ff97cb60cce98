using Dsdc.Tests.Infrastructure;
using Dsdc.Training;

namespace Dsdc.Tests.Training;

public sealed class ArtifactWriteTests
{
    private static ModelManifest Manifest(long runId) =>
        new(runId, "fused-tv", Dsdc.Shared.DocumentClasses.Names, "test", "1", 32, OnnxExport.InputName, OnnxExport.OutputName,
            System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>("{}"), new ModelScores(0, 0, 0, [], []), DateTime.UtcNow);

    [Fact]
    public void ARunsFilesAreWrittenWholeAndNoTemporaryFileStays()
    {
        var models = Directory.CreateTempSubdirectory("dsdc-artifacts-").FullName;
        try
        {
            var relative = ModelArtifacts.Write(models, 7, [1, 2, 3], Manifest(7), new Dictionary<string, byte[]> { ["view1-text.onnx"] = [4, 5] });

            Assert.Equal(Path.Combine("runs", "7", ModelArtifacts.OnnxFile), relative);
            Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(models, relative)));
            Assert.Equal(7, ModelManifest.Read(Path.Combine(models, "runs", "7", ModelArtifacts.ManifestFile)).RunId);
            Assert.Equal(["model.json", "model.onnx", "view1-text.onnx"],
                Directory.EnumerateFiles(Path.Combine(models, "runs", "7")).Select(Path.GetFileName).Order());
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    /// <summary>models/ on a full volume (a real 1 MiB tmpfs, mounted by the test as root): the write fails, and leaves
    /// no temporary file taking the space it lacked.</summary>
    [Fact]
    public async Task AWriteThatFindsTheDiskFullLeavesNoTemporaryFile()
    {
        var mount = Directory.CreateTempSubdirectory("dsdc-full-models-").FullName;
        if (!await Commands.RunAsync("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount))
        {
            Directory.Delete(mount);
            Assert.Skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); this run cannot simulate a full disk");
        }
        try
        {
            var error = Assert.ThrowsAny<IOException>(() => ModelArtifacts.Write(mount, 8, new byte[4 << 20], Manifest(8)));

            Assert.Equal(28, error.HResult & 0xFFFF); // ENOSPC
            Assert.Empty(Directory.EnumerateFiles(mount, "*", SearchOption.AllDirectories));
        }
        finally
        {
            await Commands.RunAsync("umount", "-l", mount);
            Directory.Delete(mount, recursive: true);
        }
    }
}
