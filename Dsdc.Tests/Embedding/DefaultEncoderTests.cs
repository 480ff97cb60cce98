using Dsdc.Embedding;

namespace Dsdc.Tests.Embedding;

/// <summary>The offline default encoder on its real pretrained weights (ResNet18 ImageNet + all-MiniLM-L6-v2).</summary>
public sealed class DefaultEncoderTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dsdc-embed-").FullName;
    private static IDocumentEncoder Encoder => EmbeddingTestKit.DefaultEncoder;

    [Fact]
    public void RealPageEmbeddingIsDeterministicUnitNormPerPartAndOfRightDimension()
    {
        var ct = TestContext.Current.CancellationToken;
        var page = EmbeddingTestKit.ProcessPage(EmbeddingTestKit.DatasetFile("bootcamp_golden_alimsaleh/11_invoice/invoice_00401.tif"), _work).Image;
        var input = new EncoderInput(page, "invoice total amount due payment terms net thirty days");

        var first = Encoder.Embed(input, ct);
        var second = Encoder.Embed(input, ct);

        Assert.Equal((EncoderIds.Default, "1", 512, 384, 896), (Encoder.Id, Encoder.Version, Encoder.ImageDimensions, Encoder.TextDimensions, Encoder.Dimensions));
        Assert.Equal(896, first.Length);
        Assert.Equal(first, second);
        Assert.Equal(1.0, Vectors.Norm(first.AsSpan(0, 512)), 4);
        Assert.Equal(1.0, Vectors.Norm(first.AsSpan(512)), 4);
        Assert.All(first, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    // Pairs chosen where the classes look plainly alike inside and unlike across: e-mails (header block, short body)
    // against a dense news column; news columns against a file folder tab; budget tables against a file folder tab.
    [InlineData("bootcamp_golden_dropsort/2_email/06_email_26865.tif", "bootcamp_golden_dropsort/2_email/07_email_24601.tif",
        "bootcamp_golden_dropsort/9_news_article/28_news_article_2354.tif")]
    [InlineData("bootcamp_golden_alimsaleh/9_news_article/news article_01056.tif", "bootcamp_golden_dropsort/9_news_article/28_news_article_2354.tif",
        "bootcamp_golden_dropsort/8_file_folder/24_file_folder_32856.tif")]
    [InlineData("bootcamp_golden_dropsort/10_budget/30_budget_9355.tif", "bootcamp_golden_dropsort/10_budget/31_budget_21723.tif",
        "bootcamp_golden_dropsort/8_file_folder/24_file_folder_32856.tif")]
    public void PagesOfOneClassSitCloserThanPagesOfAClearlyDifferentClass(string a, string sameClass, string otherClass)
    {
        var ct = TestContext.Current.CancellationToken;
        var pages = new[] { a, sameClass, otherClass }
            .Select(p => EmbeddingTestKit.ProcessPage(EmbeddingTestKit.DatasetFile(p), _work).Image).ToList();
        var v = Encoder.EmbedImages(pages, ct);

        var within = Vectors.CosineDistance(v[0], v[1]);
        Assert.True(within + 0.1 < Vectors.CosineDistance(v[0], v[2]), $"same class {within:F3} vs other {Vectors.CosineDistance(v[0], v[2]):F3}");
        Assert.True(within + 0.1 < Vectors.CosineDistance(v[1], v[2]), $"same class {within:F3} vs other {Vectors.CosineDistance(v[1], v[2]):F3}");
    }

    [Fact]
    public void TextPartPlacesTextsOfOneKindCloserThanUnrelatedText()
    {
        var v = Encoder.EmbedTexts([
            "invoice number date total amount due payment remit net days",
            "statement invoice balance due amount payable upon receipt",
            "smoking behaviour study subjects nicotine results laboratory analysis",
        ], TestContext.Current.CancellationToken);

        Assert.True(Vectors.CosineDistance(v[0], v[1]) + 0.1 < Vectors.CosineDistance(v[0], v[2]));
    }

    [Fact]
    public void BatchingGivesTheSameVectorsAsOneByOne()
    {
        var ct = TestContext.Current.CancellationToken;
        // Different lengths, so the batch pads the shorter ones: the mask must keep padding out of the mean.
        string[] texts = ["memo", "quarterly budget review of the marketing division with sales forecasts", ""];
        var batch = Encoder.EmbedTexts(texts, ct);
        for (var i = 0; i < texts.Length; i++)
            Assert.True(Vectors.CosineDistance(batch[i], Encoder.EmbedTexts([texts[i]], ct)[0]) < 1e-5);
    }

    [Fact]
    public void LongTextIsCutTo256TokensWithClassificationAndSeparatorTokens()
    {
        var text = string.Join(' ', Enumerable.Repeat("tobacco research report", 400));
        using var minilm = new MiniLmTextEncoder(EmbeddingTestKit.Sessions(), Path.Combine(EncoderCatalog.BundledModelsDir, "all-MiniLM-L6-v2"));

        var ids = minilm.Tokenize(text);

        Assert.Equal(MiniLmTextEncoder.MaxTokens, ids.Count);
        Assert.Equal(101, ids[0]);   // [CLS] in the uncased BERT vocabulary
        Assert.Equal(102, ids[^1]);  // [SEP]
        Assert.Equal(1.0, Vectors.Norm(Encoder.EmbedTexts([text], TestContext.Current.CancellationToken)[0]), 4);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
