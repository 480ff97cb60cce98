using System.Text.Json;

namespace Dsdc.Tests.Embedding;

/// <summary>
/// A tiny stand-in for the CLIP ViT-B/32 ONNX export, with its input and output names and its 512-value embeddings:
/// the vision model pools the normalised pixels to 7x7 and projects them; the text model looks up token vectors and
/// sums them under the attention mask. Plus a byte-level vocabulary with a few merges.
/// </summary>
internal static class ClipStandIn
{
    public const int EmbedDims = 512;

    /// <summary>Writes the four files into <c>MODELS/clip-vit-base-patch32/</c> (models under <c>onnx/</c>, as exported).</summary>
    public static string Write(string modelsDir)
    {
        var folder = Path.Combine(modelsDir, "clip-vit-base-patch32");
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        var vocab = Vocabulary();
        File.WriteAllBytes(Path.Combine(folder, "onnx", "vision_model.onnx"), VisionModel());
        File.WriteAllBytes(Path.Combine(folder, "onnx", "text_model.onnx"), TextModel(vocab.Count));
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", .. Merges]);
        return folder;
    }

    public static readonly string[] Merges = ["t h", "th e</w>", "c a", "ca t</w>", "i n", "in v", "o i"];

    /// <summary>Every byte symbol alone and with the end-of-word mark, the merge results, then the two special tokens.</summary>
    public static Dictionary<string, int> Vocabulary()
    {
        var symbols = new List<string>();
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            symbols.Add(((char)(printable ? b : next++)).ToString());
        }
        var tokens = symbols.Concat(symbols.Select(s => s + "</w>"))
            .Concat(Merges.Select(m => m.Replace(" ", "")))
            .Append("<|startoftext|>").Append("<|endoftext|>");
        var vocab = new Dictionary<string, int>();
        foreach (var t in tokens) vocab.TryAdd(t, vocab.Count);
        return vocab;
    }

    private static byte[] VisionModel()
    {
        var random = new Random(1);
        var weights = Enumerable.Range(0, 147 * EmbedDims).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var nodes = new[]
        {
            OnnxProto.Node("AveragePool", ["pixel_values"], ["pooled"],
                OnnxProto.IntsAttribute("kernel_shape", 32, 32), OnnxProto.IntsAttribute("strides", 32, 32)),
            OnnxProto.Node("Flatten", ["pooled"], ["flat"], OnnxProto.IntAttribute("axis", 1)),
            OnnxProto.Node("MatMul", ["flat", "projection"], ["image_embeds"]),
        };
        var graph = OnnxProto.Graph("vision", nodes, [OnnxProto.Tensor("projection", [147, EmbedDims], weights)],
            [OnnxProto.Value("pixel_values", OnnxProto.Float, "batch", 3, 224, 224)],
            [OnnxProto.Value("image_embeds", OnnxProto.Float, "batch", EmbedDims)]);
        return OnnxProto.Model(graph).ToArray();
    }

    private static byte[] TextModel(int vocabSize)
    {
        var random = new Random(2);
        var table = Enumerable.Range(0, vocabSize * EmbedDims).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var nodes = new[]
        {
            OnnxProto.Node("Gather", ["token_table", "input_ids"], ["tokens"], OnnxProto.IntAttribute("axis", 0)),
            OnnxProto.Node("Cast", ["attention_mask"], ["mask_float"], OnnxProto.IntAttribute("to", OnnxProto.Float)),
            OnnxProto.Node("Unsqueeze", ["mask_float", "last_axis"], ["mask_3d"]),
            OnnxProto.Node("Mul", ["tokens", "mask_3d"], ["masked"]),
            OnnxProto.Node("ReduceSum", ["masked", "sequence_axis"], ["text_embeds"], OnnxProto.IntAttribute("keepdims", 0)),
        };
        var graph = OnnxProto.Graph("text", nodes,
            [OnnxProto.Tensor("token_table", [vocabSize, EmbedDims], table),
             OnnxProto.Tensor("last_axis", [1], new long[] { -1 }),
             OnnxProto.Tensor("sequence_axis", [1], new long[] { 1 })],
            [OnnxProto.Value("input_ids", OnnxProto.Int64, "batch", "sequence"),
             OnnxProto.Value("attention_mask", OnnxProto.Int64, "batch", "sequence")],
            [OnnxProto.Value("text_embeds", OnnxProto.Float, "batch", EmbedDims)]);
        return OnnxProto.Model(graph).ToArray();
    }
}
