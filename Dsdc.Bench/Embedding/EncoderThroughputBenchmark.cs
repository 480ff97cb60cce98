using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Dsdc.Embedding;

/// <summary>
/// Items per second through the encoder's public API (preprocessing, tokenizing, pooling, normalising included) and
/// through a bare <c>InferenceSession.Run</c> loop over tensors prepared beforehand from the same inputs, measured
/// alternately in the same process.
/// </summary>
internal sealed class EncoderThroughputBenchmark(OnnxSessionFactory sessions, EncoderCatalog catalog) : IDisposable
{
    private const int Rounds = 3;
    private const int TextBatch = 32;
    private readonly IDocumentEncoder _encoder = catalog.CreateDefault(EncoderCatalog.BundledModelsDir);
    private static string ResNetDir => Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18");
    private static string MiniLmDir => Path.Combine(EncoderCatalog.BundledModelsDir, "all-MiniLM-L6-v2");

    public IEnumerable<string> Run(int imageCount, int textCount, CancellationToken ct)
    {
        var random = new Random(42);
        var images = Enumerable.Range(0, imageCount).Select(_ => SyntheticPage(random)).ToList();
        var textChunks = Enumerable.Range(0, textCount).Select(_ => SyntheticText(random)).Chunk(TextBatch).ToList();

        yield return "| part | encoder (items/s) | bare ORT Run (items/s) | ratio |";
        yield return "| --- | --- | --- | --- |";
        yield return Row("image (ResNet18, batch 1)", images.Count, 1,
            u => _encoder.EmbedImages([images[u]], ct), BareImageLoop(images));
        yield return Row($"text (MiniLM, batch {TextBatch}, 256 tokens)", textChunks.Count, TextBatch,
            u => _encoder.EmbedTexts(textChunks[u], ct), BareTextLoop(textChunks));
    }

    /// <summary>
    /// Alternates the two ways unit by unit (an image, a batch of texts), swapping which goes first, so that load
    /// from other processes falls on both alike; totals over all rounds.
    /// </summary>
    private static string Row(string part, int units, int itemsPerUnit, Action<int> encoder, Action<int> bare)
    {
        encoder(0);
        bare(0); // warm-up: first runs allocate arenas
        double viaEncoder = 0, viaBare = 0;
        for (var r = 0; r < Rounds; r++)
        for (var u = 0; u < units; u++)
        {
            if ((r + u) % 2 == 0)
            {
                viaEncoder += Time(() => encoder(u));
                viaBare += Time(() => bare(u));
            }
            else
            {
                viaBare += Time(() => bare(u));
                viaEncoder += Time(() => encoder(u));
            }
        }
        var items = (double)Rounds * units * itemsPerUnit;
        return $"| {part} | {items / viaEncoder:F2} | {items / viaBare:F2} | {viaBare / viaEncoder:F2} |";
    }

    private Action<int> BareImageLoop(IReadOnlyList<RgbImage> images)
    {
        var prepare = sessions.Create(Path.Combine(ResNetDir, "ResNetPreprocess.onnx"));
        var network = sessions.Create(Path.Combine(ResNetDir, "ResNet18.onnx"));
        _disposables.AddRange([prepare, network]);
        var inputs = images.Select(image =>
        {
            var planar = new float[3 * 224 * 224];
            ResNet18ImageEncoder.ToPlanar(image, planar);
            return OrtValue.CreateTensorValueFromMemory(planar, [1, 3, 224, 224]);
        }).ToList();
        _disposables.AddRange(inputs);
        return u =>
        {
            using var run = new RunOptions();
            using var prepared = prepare.Run(run, ["OriginalInput"], [inputs[u]], ["PreprocessedInput"]);
            using var pooled = network.Run(run, ["Input247"], [prepared[0]], ["Pooling395_Output_0"]);
        };
    }

    private Action<int> BareTextLoop(IReadOnlyList<string[]> chunks)
    {
        var text = new MiniLmTextEncoder(sessions, MiniLmDir);
        var session = sessions.Create(Path.Combine(MiniLmDir, "model.onnx"));
        _disposables.AddRange([text, session]);
        var feeds = chunks.Select(chunk =>
        {
            var batch = new TokenBatch(chunk.Select(text.Tokenize).ToList(), padId: 0);
            return new[]
            {
                OrtValue.CreateTensorValueFromMemory(batch.Ids, batch.Shape),
                OrtValue.CreateTensorValueFromMemory(batch.Mask, batch.Shape),
                OrtValue.CreateTensorValueFromMemory(new long[batch.Ids.Length], batch.Shape),
            };
        }).ToList();
        _disposables.AddRange(feeds.SelectMany(f => f));
        return u =>
        {
            using var run = new RunOptions();
            using var outputs = session.Run(run, ["input_ids", "attention_mask", "token_type_ids"], feeds[u], ["last_hidden_state"]);
        };
    }

    /// <summary>A page-like picture: white with dark text-like strokes, so no part of the pipeline sees a degenerate input.</summary>
    private static RgbImage SyntheticPage(Random random)
    {
        var pixels = new byte[224 * 224 * 3];
        Array.Fill(pixels, (byte)245);
        for (var line = 12; line < 212; line += random.Next(6, 14))
        for (var x = 10 + random.Next(20); x < 214 - random.Next(60); x++)
            if (random.NextDouble() < 0.55)
                for (var dy = 0; dy < 3; dy++)
                    pixels.AsSpan(((line + dy) * 224 + x) * 3, 3).Fill((byte)random.Next(0, 90));
        return new RgbImage(224, 224, pixels);
    }

    /// <summary>About 300 common words: longer than 256 tokens, as a full OCR'd page is.</summary>
    private static string SyntheticText(Random random)
    {
        string[] words = ["invoice", "total", "amount", "payment", "tobacco", "report", "research", "results", "company",
            "meeting", "letter", "date", "budget", "sales", "market", "product", "study", "memo", "subject", "account",
            "smoking", "health", "program", "advertising", "brand", "division", "quarter", "review", "analysis", "data"];
        return string.Join(' ', Enumerable.Range(0, 300).Select(_ => words[random.Next(words.Length)]));
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }

    private readonly List<IDisposable> _disposables = [];

    public void Dispose()
    {
        foreach (var d in _disposables) d.Dispose();
        ((IDisposable)_encoder).Dispose();
    }
}
