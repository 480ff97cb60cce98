using Dsdc.Embedding;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Embedding;

/// <summary>The CLIP path end to end on a stand-in model with CLIP's input and output names (real CLIP is not downloadable here).</summary>
public sealed class ClipEncoderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dsdc-clip-").FullName;

    [Fact]
    public void ClipEncoderRunsEndToEndOnTheStandInModel()
    {
        var ct = TestContext.Current.CancellationToken;
        ClipStandIn.Write(Path.Combine(_root, "models"));
        var paths = EmbeddingTestKit.Paths(_root);
        using var encoder = (IDisposable)new EncoderCatalog(EmbeddingTestKit.Sessions(), paths).Create(EncoderIds.Clip);
        var clip = (IDocumentEncoder)encoder;
        var page = EmbeddingTestKit.ProcessPage(EmbeddingTestKit.DatasetFile("bootcamp_golden_alimsaleh/11_invoice/invoice_00401.tif"), _root).Image;
        var wide = new RgbImage(448, 300, Enumerable.Range(0, 448 * 300 * 3).Select(i => (byte)(i * 7 % 251)).ToArray());
        EncoderInput[] inputs = [new(page, "the cat invoice"), new(wide, "a memo about the budget")];

        var batch = clip.EmbedBatch(inputs, ct);
        var single = clip.Embed(inputs[0], ct);

        Assert.Equal((EncoderIds.Clip, 512, 512, 1024), (clip.Id, clip.ImageDimensions, clip.TextDimensions, clip.Dimensions));
        Assert.All(batch, v => Assert.Equal(1024, v.Length));
        Assert.All(batch, v => Assert.Equal(1.0, Vectors.Norm(v.AsSpan(0, 512)), 4));
        Assert.All(batch, v => Assert.Equal(1.0, Vectors.Norm(v.AsSpan(512)), 4));
        Assert.True(Vectors.CosineDistance(batch[0], single) < 1e-5);
        Assert.True(Vectors.CosineDistance(batch[0], batch[1]) > 0.01);
    }

    [Fact]
    public void ClipTokenizerAppliesMergesWithEndOfWordMarkBetweenStartAndEndTokens()
    {
        var vocab = ClipStandIn.Vocabulary();
        var tokenizer = new ClipTokenizer(vocab, ["#version: 0.2", .. ClipStandIn.Merges]);

        var ids = tokenizer.Encode("The  CAT&amp;inv");

        // "the" -> t h e</w> -> th e</w> -> the</w>; "cat" -> ca t</w> -> cat</w>; "&" alone; "inv" -> in v</w> (no "inv</w>" merge).
        string[] expected = ["<|startoftext|>", "the</w>", "cat</w>", "&</w>", "in", "v</w>", "<|endoftext|>"];
        Assert.Equal(expected.Select(t => vocab[t]), ids);
    }

    [Fact]
    public void TheTokenizerKeepsABoundedNumberOfWordsAndStillEncodesTheRest()
    {
        var vocab = ClipStandIn.Vocabulary();
        var tokenizer = new ClipTokenizer(vocab, ClipStandIn.Merges);
        var expected = tokenizer.Encode("the cat");

        // OCR debris: one-off words, far more of them than are kept.
        // OCR debris: one-off words (letters only, one token per letter, 10 a text so the 75 ids take each in full).
        static string Word(int n) => string.Concat(Enumerable.Range(0, 4).Select(k => (char)('a' + n / (int)Math.Pow(26, k) % 26)));
        for (var i = 0; i < ClipTokenizer.MaxCachedWords + 5_000; i += 10)
            tokenizer.Encode(string.Join(' ', Enumerable.Range(i, 10).Select(Word)));

        Assert.Equal(ClipTokenizer.MaxCachedWords, tokenizer.CachedWords);
        Assert.Equal(expected, tokenizer.Encode("the cat"));
        Assert.Equal(6, tokenizer.Encode(Word(ClipTokenizer.MaxCachedWords + 4_000)).Count);
    }

    [Fact]
    public void ClipTextIsCutAndPaddedTo77Tokens()
    {
        var vocab = ClipStandIn.Vocabulary();
        var tokenizer = new ClipTokenizer(vocab, ClipStandIn.Merges);

        var ids = tokenizer.Encode(string.Join(' ', Enumerable.Repeat("the cat", 100)));
        var batch = new TokenBatch([ids, tokenizer.Encode("cat")], padId: tokenizer.EndId, fixedLength: ClipTokenizer.ContextLength);

        Assert.Equal(ClipTokenizer.ContextLength, ids.Count);
        Assert.Equal(tokenizer.StartId, ids[0]);
        Assert.Equal(tokenizer.EndId, ids[^1]);
        Assert.Equal(new long[] { tokenizer.StartId, vocab["cat</w>"], tokenizer.EndId, tokenizer.EndId }, batch.Ids.Skip(77).Take(4));
        Assert.Equal(3, batch.Mask.Skip(77).Sum());
    }

    [Fact]
    public void ClipPreprocessingResizesTheShorterSideAndCropsTheCentre()
    {
        // A 600x300 image: left and right quarters black, centre half white. Shorter side to 224 -> 448x224, centre
        // crop 224 -> the white half only, so every normalised value is CLIP's (1 - mean) / std.
        var pixels = new byte[600 * 300 * 3];
        for (var y = 0; y < 300; y++)
            pixels.AsSpan((y * 600 + 150) * 3, 300 * 3).Fill(255);

        var tensor = ClipImageEncoder.Preprocess([new RgbImage(600, 300, pixels)]);

        Assert.Equal(3 * 224 * 224, tensor.Length);
        Assert.Equal((1 - 0.48145466f) / 0.26862954f, tensor[224 * 112 + 5], 2);       // red, well inside the crop
        Assert.Equal((1 - 0.40821073f) / 0.27577711f, tensor[2 * 224 * 224 + 224 * 50 + 200], 2);
    }

    [Fact]
    public void MissingClipSaysPlainlyThatItIsNotInstalledWhereAndHowToGetIt()
    {
        var paths = EmbeddingTestKit.Paths(_root);
        var catalog = new EncoderCatalog(EmbeddingTestKit.Sessions(), paths);

        var error = Assert.Throws<EncoderNotInstalledException>(() => catalog.Create(EncoderIds.Clip));
        var validation = new EmbeddingOptionsValidator(paths).Validate(null, new EmbeddingOptions { Encoder = EncoderIds.Clip });

        Assert.Contains("CLIP ViT-B/32 is not installed", error.Message);
        Assert.Contains(Path.Combine(paths.ModelsDir, "clip-vit-base-patch32"), error.Message);
        Assert.Contains("scripts/download-clip.sh", error.Message);
        Assert.True(validation.Failed);
        Assert.Contains("CLIP ViT-B/32 is not installed", validation.FailureMessage);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
