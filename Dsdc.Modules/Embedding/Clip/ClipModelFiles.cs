namespace Dsdc.Embedding;

/// <summary>
/// Where the CLIP ViT-B/32 ONNX export lies: <c>MODELS/clip-vit-base-patch32/</c> holding the vision and text models
/// (at the top or under <c>onnx/</c>, as the usual Hugging Face export has them), <c>vocab.json</c> and <c>merges.txt</c>.
/// </summary>
public sealed record ClipModelFiles(string Folder, string VisionModel, string TextModel, string Vocab, string Merges)
{
    public const string FolderName = "clip-vit-base-patch32";
    public const string DownloadScript = "scripts/download-clip.sh";

    public static string FolderIn(string modelsDir) => Path.Combine(modelsDir, FolderName);

    /// <summary>The files, or null with the names of those missing.</summary>
    public static ClipModelFiles? TryFind(string modelsDir, out IReadOnlyList<string> missing)
    {
        var folder = FolderIn(modelsDir);
        string? Find(params string[] candidates) =>
            candidates.Select(c => Path.Combine(folder, c)).FirstOrDefault(File.Exists);
        var vision = Find("vision_model.onnx", "onnx/vision_model.onnx");
        var text = Find("text_model.onnx", "onnx/text_model.onnx");
        var vocab = Find("vocab.json");
        var merges = Find("merges.txt");
        missing = new (string Name, string? Path)[]
            { ("vision_model.onnx", vision), ("text_model.onnx", text), ("vocab.json", vocab), ("merges.txt", merges) }
            .Where(f => f.Path is null).Select(f => f.Name).ToList();
        return missing.Count == 0 ? new ClipModelFiles(folder, vision!, text!, vocab!, merges!) : null;
    }

    public static ClipModelFiles Find(string modelsDir) =>
        TryFind(modelsDir, out var missing) ?? throw new EncoderNotInstalledException(NotInstalledMessage(modelsDir, missing));

    public static string NotInstalledMessage(string modelsDir, IReadOnlyList<string> missing) =>
        $"CLIP ViT-B/32 is not installed: {string.Join(", ", missing)} missing in {FolderIn(modelsDir)}. " +
        $"Run {DownloadScript} on a machine with internet access (optional) and copy that folder here, " +
        $"or set {EmbeddingOptions.Section}:Encoder to {EncoderIds.Default}, which needs no download.";
}

/// <summary>The configured encoder's model files are not there; the message says where they go and how to get them.</summary>
public sealed class EncoderNotInstalledException(string message) : Exception(message);
