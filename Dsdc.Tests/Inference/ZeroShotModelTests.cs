using Dsdc.Embedding;
using Dsdc.Inference;
using Dsdc.Shared;
using Dsdc.Tests.Embedding;
using Dsdc.Training;

namespace Dsdc.Tests.Inference;

/// <summary>The zero-shot model's cues on pages built to show one cue each, with the real text encoder.</summary>
public sealed class ZeroShotModelTests
{
    private static readonly IDocumentEncoder Encoder = EmbeddingTestKit.DefaultEncoder;
    private static readonly Lazy<ZeroShotModel> Model = new(() => new ZeroShotModel(Encoder));

    private static PageInputs Page(string text, float[] layout, string? embeddedText = null)
    {
        var vector = new float[Encoder.Dimensions];
        Encoder.EmbedTexts([embeddedText ?? text])[0].CopyTo(vector, Encoder.ImageDimensions);
        return new PageInputs(vector, text, layout) { ImageDimensions = Encoder.ImageDimensions };
    }

    /// <summary>A 32x32 ink grid: <paramref name="background"/> everywhere, <paramref name="dark"/> of the cells solid black.</summary>
    private static float[] Grid(float background, double dark = 0)
    {
        var grid = Enumerable.Repeat(background, PageLayout.Dimensions).ToArray();
        for (var i = 0; i < (int)(dark * grid.Length); i++) grid[i] = 0.9f;
        return grid;
    }

    private static int C(string name) => DocumentClasses.Names.ToList().IndexOf(name) is >= 0 and var i ? i : throw new ArgumentException(name);

    private static int Answer(PageInputs page) => ClassificationMetrics.ArgMax(Model.Value.Predict(page));

    [Fact]
    public void APageWithoutReadableTextIsAFolderWhenBlankHandwritingWhenInkedAndAnAdvertWhenPictured()
    {
        // The text embedding of such a page is of OCR noise: here it reads like an invoice, and must not be listened to.
        const string misleading = "Invoice number, quantity, unit price, amount due and payment terms.";
        Assert.Equal(C("file folder"), Answer(Page("2081597604", Grid(0.01f), misleading)));
        Assert.Equal(C("handwritten"), Answer(Page("Tae NU", Grid(0.08f), misleading)));
        Assert.Equal(C("advertisement"), Answer(Page("", Grid(0.1f, dark: 0.3), misleading)));
    }

    [Fact]
    public void WithoutALayoutGridALittleTextPageStillGetsAnAnswer()
    {
        var p = Model.Value.Predict(Page("2081597604", []));
        Assert.Equal(1.0, p.Sum(), 4);
        Assert.Contains(ClassificationMetrics.ArgMax(p), new[] { C("handwritten"), C("file folder") });
    }

    [Fact]
    public void FiguresShortLinesAndQuestionsRaiseTheClassesMadeOfThem()
    {
        var blank = Grid(0.03f);
        // The same text embedding on both sides: only the shape of the OCR text differs.
        double Gain(string label, string with, string without) =>
            Model.Value.Logits(Page(with, blank, without))[C(label)] - Model.Value.Logits(Page(without, blank))[C(label)];

        const string prose = "The committee reviewed the plans for the coming season and agreed that the regional offices " +
                             "should report their progress before the meeting in the spring, with the usual summary attached.";
        const string figures = "The committee reviewed 1987 1988 1989 plans 12500 34000 56750 for 2300 4410 the 99120 88210 coming " +
                               "season 10450 20900 and 31350 41800 agreed 52250 62700 that 73150 83600 the 94050 regional offices report.";
        Assert.True(Gain("budget", figures, prose) > 0.5);

        var slide = string.Join('\n', prose.Split(' ').Chunk(3).Select(w => "- " + string.Join(' ', w)));
        Assert.True(Gain("presentation", slide, prose) > 0.5);

        var questions = prose + " Did you attend? Which office reported? How often do you travel?";
        Assert.True(Gain("questionnaire", questions, prose + " You attended. The office reported. You travel often.") > 0.5, "three questions");
    }

    [Fact]
    public void AMemoHeadedInternalCorrespondenceReadsAsAMemo()
    {
        var blank = Grid(0.03f);
        const string body = "Mr. A. Smith\nResearch, Development and Engineering\nThe samples from the last shipment were tested " +
                            "this week and the results agree with the earlier series. Please send the remaining reports to the laboratory.";
        var memo = C("memo");
        Assert.True(Model.Value.Logits(Page("INTERNAL CORRESPONDENCE\n" + body, blank))[memo] > Model.Value.Logits(Page(body, blank))[memo] + 1);
    }

    /// <summary>A cue the main OCR reading misread counts when another reading of the page (Ocr:ExtraReadings) read it.</summary>
    [Fact]
    public void ACueMisreadInTheMainReadingCountsWhenAnotherReadingReadsIt()
    {
        var blank = Grid(0.03f);
        const string body = "Mr. A. Smith\nResearch, Development and Engineering\nThe samples from the last shipment were tested " +
                            "this week and the results agree with the earlier series. Please send the remaining reports to the laboratory.";
        var misread = Page("INTERNAI C0RRESP0NDENCE\n" + body, blank);
        var memo = C("memo");
        var alone = Model.Value.Logits(misread);
        var read = "INTERNAL CORRESPONDENCE\n" + body;
        var withReadings = Model.Value.Logits(misread with { Readings = read + "\f" + read });

        Assert.True(withReadings[memo] > alone[memo] + 1, $"memo {withReadings[memo]:F2} with the readings, {alone[memo]:F2} without");
        // Only the cues change: the other classes' logits (the embedding, the look, the amount and shape of the text,
        // all from the main reading) stay; and a cue read in two readings counts once.
        Assert.All(Enumerable.Range(0, DocumentClasses.Count).Where(c => c != memo), c => Assert.Equal(alone[c], withReadings[c], 9));
        var once = Model.Value.Logits(misread with { Readings = read });
        Assert.All(Enumerable.Range(0, DocumentClasses.Count), c => Assert.Equal(once[c], withReadings[c], 9));
    }

    [Theory]
    // A cue bounded by a letter or digit does not match inside a longer word...
    [InlineData("dear", "Dear Mr. Smith", true)]
    [InlineData("dear", "endearing", false)]
    [InlineData("to:", "TO: All staff", true)]
    [InlineData("to:", "Sent to: John", true)]
    [InlineData("to:", "Sent into: storage", false)]
    // ...and a symbol at its start or end meets letters there: the "@" of an address.
    [InlineData("@", "jsmith@example.com", true)]
    [InlineData("@", "no address here", false)]
    public void ACueMatchesWholeWordsAndASymbolBesideLetters(string cue, string text, bool matches) =>
        Assert.Equal(matches, DocumentCues.Pattern(cue).IsMatch(text));
}
