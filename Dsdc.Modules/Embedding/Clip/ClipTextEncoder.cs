using Microsoft.ML.OnnxRuntime;

namespace Dsdc.Embedding;

/// <summary>CLIP's text tower: 77 BPE ids padded with the end token; <c>text_embeds</c> (512) L2-normalised.</summary>
internal sealed class ClipTextEncoder(OnnxSessionFactory sessions, string modelPath, ClipTokenizer tokenizer) : ITextEncoderPart
{
    private readonly InferenceSession _session = sessions.Create(modelPath);
    private readonly string[] _output = ["text_embeds"];

    // Some exports take the attention mask, some only the ids.
    private bool WantsMask => _session.InputMetadata.ContainsKey("attention_mask");

    public int Dimensions => _session.OutputMetadata["text_embeds"].Dimensions[^1] is > 0 and var d ? d : 512;

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var batch = Tokenize(texts);
        using var run = new RunOptions();
        using var cancel = ct.Register(() => run.Terminate = true);
        return Run(batch, run);
    }

    internal TokenBatch Tokenize(IReadOnlyList<string> texts) =>
        new(texts.Select(tokenizer.Encode).ToList(), padId: tokenizer.EndId, fixedLength: ClipTokenizer.ContextLength);

    internal float[][] Run(TokenBatch batch, RunOptions run)
    {
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.Ids, batch.Shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.Mask, batch.Shape);
        string[] names = WantsMask ? ["input_ids", "attention_mask"] : ["input_ids"];
        OrtValue[] values = WantsMask ? [ids, mask] : [ids];
        using var outputs = _session.Run(run, names, values, _output);
        return Vectors.NormalizedRows(outputs[0].GetTensorDataAsSpan<float>(), batch.Count, Dimensions);
    }

    public void Dispose() => _session.Dispose();
}
