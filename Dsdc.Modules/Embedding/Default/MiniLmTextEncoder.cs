using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace Dsdc.Embedding;

/// <summary>
/// all-MiniLM-L6-v2 (sentence-transformers): uncased WordPiece, at most 256 tokens, mean of the last hidden state over
/// the attention mask, L2-normalised: 384 values, as the sentence-transformers model computes them.
/// </summary>
internal sealed class MiniLmTextEncoder : ITextEncoderPart
{
    public const int MaxTokens = 256;
    private const int Hidden = 384;

    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly bool _wantsTokenTypes;
    private readonly string[] _output = ["last_hidden_state"];

    public MiniLmTextEncoder(OnnxSessionFactory sessions, string folder)
    {
        using (var vocab = File.OpenRead(Path.Combine(folder, "vocab.txt")))
            _tokenizer = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true });
        _session = sessions.Create(Path.Combine(folder, "model.onnx"));
        _wantsTokenTypes = _session.InputMetadata.ContainsKey("token_type_ids");
    }

    public int Dimensions => Hidden;

    /// <summary>[CLS] wordpieces [SEP], cut so that the whole sequence holds at most <see cref="MaxTokens"/> ids.</summary>
    internal IReadOnlyList<int> Tokenize(string text)
    {
        var pieces = _tokenizer.EncodeToIds(text, MaxTokens - 2, addSpecialTokens: false, out _, out _);
        return [_tokenizer.ClassificationTokenId, .. pieces, _tokenizer.SeparatorTokenId];
    }

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var ids = texts.Select(Tokenize).ToList();
        var batch = new TokenBatch(ids, padId: _tokenizer.PaddingTokenId);
        using var run = new RunOptions();
        using var cancel = ct.Register(() => run.Terminate = true);
        return Run(batch, run);
    }

    internal float[][] Run(TokenBatch batch, RunOptions run)
    {
        using var inputIds = OrtValue.CreateTensorValueFromMemory(batch.Ids, batch.Shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.Mask, batch.Shape);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[batch.Ids.Length], batch.Shape);
        string[] names = _wantsTokenTypes ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
        OrtValue[] values = _wantsTokenTypes ? [inputIds, mask, types] : [inputIds, mask];
        using var outputs = _session.Run(run, names, values, _output);
        return MeanPool(outputs[0].GetTensorDataAsSpan<float>(), batch);
    }

    /// <summary>Mean of the token vectors where the mask is 1, then unit length.</summary>
    internal static float[][] MeanPool(ReadOnlySpan<float> hidden, TokenBatch batch)
    {
        var result = new float[batch.Count][];
        for (var b = 0; b < batch.Count; b++)
        {
            var sum = new float[Hidden];
            var count = 0;
            for (var t = 0; t < batch.Length; t++)
            {
                if (batch.Mask[b * batch.Length + t] == 0) continue;
                count++;
                var row = hidden.Slice((b * batch.Length + t) * Hidden, Hidden);
                for (var h = 0; h < Hidden; h++) sum[h] += row[h];
            }
            for (var h = 0; h < Hidden; h++) sum[h] /= Math.Max(count, 1);
            result[b] = Vectors.Normalize(sum);
        }
        return result;
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>Token id sequences padded to the longest one, with their attention mask, as int64 [count, length].</summary>
internal sealed class TokenBatch
{
    public TokenBatch(IReadOnlyList<IReadOnlyList<int>> sequences, int padId, int? fixedLength = null)
    {
        Count = sequences.Count;
        Length = fixedLength ?? sequences.Max(s => s.Count);
        Ids = new long[Count * Length];
        Mask = new long[Count * Length];
        Array.Fill(Ids, padId);
        for (var b = 0; b < Count; b++)
        {
            for (var t = 0; t < Math.Min(Length, sequences[b].Count); t++)
            {
                Ids[b * Length + t] = sequences[b][t];
                Mask[b * Length + t] = 1;
            }
        }
        Shape = [Count, Length];
    }

    public int Count { get; }
    public int Length { get; }
    public long[] Ids { get; }
    public long[] Mask { get; }
    public long[] Shape { get; }
}
