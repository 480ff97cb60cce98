using Dsdc.Embedding;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace Dsdc.Training;

/// <summary>
/// A BERT-style sentence encoder other than the production MiniLM, for <c>stackprobe --text-model DIR</c>: the folder
/// holds <c>model.onnx</c> (inputs <c>input_ids</c>, <c>attention_mask</c>, optionally <c>token_type_ids</c>; output
/// <c>last_hidden_state</c>) and its uncased WordPiece <c>vocab.txt</c>. Pooled by the [CLS] token or the mean over the
/// mask, L2-normalised.
/// </summary>
internal sealed class OtherTextEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly bool _wantsTokenTypes;
    private readonly int _maxTokens;
    private readonly bool _cls;

    public OtherTextEncoder(OnnxSessionFactory sessions, string folder, int maxTokens, bool clsPooling)
    {
        foreach (var file in new[] { "model.onnx", "vocab.txt" })
            if (!File.Exists(Path.Combine(folder, file)))
                throw new FileNotFoundException($"--text-model: {folder} has no {file}", Path.Combine(folder, file));
        using (var vocab = File.OpenRead(Path.Combine(folder, "vocab.txt")))
            _tokenizer = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true });
        _session = sessions.Create(Path.Combine(folder, "model.onnx"));
        _wantsTokenTypes = _session.InputMetadata.ContainsKey("token_type_ids");
        _maxTokens = maxTokens;
        _cls = clsPooling;
    }

    /// <summary>One text's embedding, from its first <c>maxTokens</c> word pieces.</summary>
    public float[] Embed(string text)
    {
        var pieces = _tokenizer.EncodeToIds(text, _maxTokens - 2, addSpecialTokens: false, out _, out _);
        long[] ids = [_tokenizer.ClassificationTokenId, .. pieces.Select(i => (long)i), _tokenizer.SeparatorTokenId];
        long[] shape = [1, ids.Length];
        var mask = Enumerable.Repeat(1L, ids.Length).ToArray();
        using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape);
        string[] names = _wantsTokenTypes ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
        OrtValue[] values = _wantsTokenTypes ? [inputIds, maskValue, types] : [inputIds, maskValue];
        using var run = new RunOptions();
        using var outputs = _session.Run(run, names, values, ["last_hidden_state"]);
        var hidden = outputs[0].GetTensorDataAsSpan<float>();
        var width = hidden.Length / ids.Length;
        var pooled = new float[width];
        if (_cls) hidden[..width].CopyTo(pooled);
        else
            for (var t = 0; t < ids.Length; t++)
                for (var h = 0; h < width; h++) pooled[h] += hidden[t * width + h] / ids.Length;
        return Vectors.Normalize(pooled);
    }

    /// <summary>The mean of the embeddings of consecutive chunks of <paramref name="words"/> words, L2-normalised.</summary>
    public float[] EmbedChunked(string text, int words) => ChunkedText.Mean(text, words, chunks => chunks.Select(Embed).ToList());

    public void Dispose() => _session.Dispose();
}

/// <summary>A whole text read in chunks of words by an encoder that reads only the start of a text.</summary>
internal static class ChunkedText
{
    /// <summary>The mean of <paramref name="embed"/>'s embeddings of consecutive <paramref name="words"/>-word chunks (one
    /// empty chunk for an empty text), L2-normalised.</summary>
    public static float[] Mean(string text, int words, Func<IReadOnlyList<string>, IReadOnlyList<float[]>> embed)
    {
        var chunks = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Chunk(words).Select(c => string.Join(' ', c))
            .DefaultIfEmpty("").ToList();
        var embedded = embed(chunks);
        var mean = new float[embedded[0].Length];
        foreach (var v in embedded) for (var j = 0; j < mean.Length; j++) mean[j] += v[j] / embedded.Count;
        return Vectors.Normalize(mean);
    }
}
