using Dsdc.Tests.Infrastructure;
using Dsdc.Training;

namespace Dsdc.Tests.Training;

/// <summary>The cues view: the classes' cue words counted in every OCR reading, in the first lines and at line starts.</summary>
public sealed class CueLexiconTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static float Feature(CueLexicon lexicon, PageInputs page, string cue, int which) =>
        lexicon.Transform(page)[3 * lexicon.Cues.ToList().IndexOf(cue) + which];

    [Fact]
    public void ACueIsCountedInEveryReadingInTheFirstLinesAndAtTheStartOfALine()
    {
        var lexicon = CueLexicon.Default;
        var letter = new PageInputs([], "June 10, 1975\n\nDear Dr. Reynolds:\nEnclosed are three copies.\nPlease reply to: the office\nWe look forward to your answer.\n\nSincerely,", [])
        {
            Readings = "Dear Dr. Reynolds: Enclosed are three copies.\fSincerely,",
        };

        Assert.Equal(3 * lexicon.Cues.Count, lexicon.Dimensions);
        Assert.Equal(DocumentCues.ByClass.SelectMany(c => c).Distinct(), lexicon.Cues);
        // "dear": twice in the readings, in the first lines, and each time at the start of a line (a reading starts one).
        Assert.Equal(MathF.Log(3), Feature(lexicon, letter, "dear", 0), 5);
        Assert.Equal(1f, Feature(lexicon, letter, "dear", 1));
        Assert.Equal(MathF.Log(3), Feature(lexicon, letter, "dear", 2), 5);
        // "sincerely" is past the first five lines that hold a letter.
        Assert.Equal(0f, Feature(lexicon, letter, "sincerely", 1));
        Assert.True(Feature(lexicon, letter, "sincerely", 2) > 0);
        // "to:" inside a sentence is a cue found, not a memo's TO: line.
        Assert.Equal(MathF.Log(2), Feature(lexicon, letter, "to:", 0), 5);
        Assert.Equal(0f, Feature(lexicon, letter, "to:", 2));
        Assert.Equal(0f, Feature(lexicon, letter, "memorandum", 0));

        // A line start allows up to three spaces or symbols before the cue, never a letter or digit; Windows line ends too.
        var memo = new PageInputs([], "MEMORANDUM\r\n  TO: All staff\r\n- FROM: J. Smith\r\nAB CC: files\r\n1 RE: budget", []);
        Assert.Equal(MathF.Log(2), Feature(lexicon, memo, "to:", 2), 5);
        Assert.Equal(MathF.Log(2), Feature(lexicon, memo, "from:", 2), 5);
        Assert.Equal(MathF.Log(2), Feature(lexicon, memo, "cc:", 0), 5);
        Assert.Equal(0f, Feature(lexicon, memo, "cc:", 2));
        Assert.Equal(0f, Feature(lexicon, memo, "re:", 2));
        Assert.Equal(new float[lexicon.Dimensions], lexicon.Transform(new PageInputs([], "", [])));
    }

    [Fact]
    public void AModelReadsTheLexiconItWasSavedWithNotTheOneOfTheCode()
    {
        var saved = new CueLexicon(["zebra", "to:"]);
        var state = ViewFeatures.Load(ViewKinds.Cues, saved.ToJson());
        var page = new PageInputs([], "Zebra crossing\nTo: the zoo\nzebras", []);

        Assert.Equal(6, state.Dimensions);
        Assert.Equal("lexicon", state.FileSuffix);
        Assert.Equal(saved.Transform(page), ViewFeatures.Raw(ViewKinds.Cues, state, page));
        Assert.Equal([MathF.Log(2), 1, MathF.Log(2), MathF.Log(2), 1, MathF.Log(2)], ViewFeatures.Raw(ViewKinds.Cues, state, page));
        Assert.Contains($"\"version\":{CueLexicon.FeaturesVersion}", saved.ToJson());
        Assert.Throws<InvalidDataException>(() => ViewFeatures.Load(ViewKinds.Cues, "{\"terms\":[]}"));
        Assert.Throws<InvalidDataException>(() => ViewFeatures.Load(ViewKinds.Cues, $"{{\"version\":{CueLexicon.FeaturesVersion},\"cues\":[]}}"));
        Assert.Throws<InvalidDataException>(() => ViewFeatures.Load(ViewKinds.Cues, $"{{\"version\":{CueLexicon.FeaturesVersion},\"cues\":[7]}}"));
        // Features of another version (what is counted, and where) would not be what the model was trained on.
        var later = Assert.Throws<InvalidDataException>(() => ViewFeatures.Load(ViewKinds.Cues, $"{{\"version\":{CueLexicon.FeaturesVersion + 1},\"cues\":[\"zebra\"]}}"));
        Assert.Contains("version", later.Message);
        Assert.Throws<InvalidDataException>(() => ViewFeatures.Load(ViewKinds.Cues, "{\"cues\":[\"zebra\"]}"));
        Assert.Throws<InvalidOperationException>(() => ViewFeatures.Raw(ViewKinds.Cues, null, page));
        // A copy each time: a caller that standardises the row in place does not change the next one.
        var row = saved.Transform(page);
        row[0] = 42;
        Assert.NotEqual(42, saved.Transform(page)[0]);
    }

    /// <summary>
    /// Words that mark a class but weigh little among a page's thousands of TF-IDF terms (a letter's salutation) get a
    /// weight of their own: a fused model with the cues view learns a letter from "Dear ..." where the other views see
    /// nothing, and its served files (the lexicon beside the view's graph) give the trained model's probabilities.
    /// </summary>
    [Fact]
    public void TheCuesViewLearnsAClassFromItsCueWordsAndServesItsOwnLexicon()
    {
        var random = new Random(5);
        string[] filler = ["archive", "scanned", "page", "copy", "record", "number", "office", "company", "report", "review"];
        string Filler() => string.Join(' ', Enumerable.Range(0, 40).Select(_ => filler[random.Next(filler.Length)]));
        PageInputs Page(int label) => new(Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble()).ToArray(),
            (label == 0 ? "Dear Mr. Jones:\n" : "MEMORANDUM\nTO: All staff\n") + Filler() + (label == 0 ? "\nSincerely yours," : ""), []);
        var train = Enumerable.Range(0, 24).Select(i => new LabelledPage($"doc{i:D2}", i % 2, Page(i % 2))).ToList();
        var probe = Enumerable.Range(0, 10).Select(i => Page(i % 2)).ToList();

        var model = FusedModel.Train(CvRecipes.Fused(ViewKinds.Vector, ViewKinds.Cues), train, Ct);
        var expected = model.Predict(probe);
        for (var i = 0; i < probe.Count; i++) Assert.True(expected[i][i % 2] > 0.6f, $"page {i}: {expected[i][i % 2]}");
        Assert.Same(CueLexicon.Default, model.Views[1].Features);

        var exported = FusedExport.Export(model, [], expected);
        Assert.Equal("view1-cues-lexicon.json", exported.Views![1].Features);
        using var scratch = new ScratchFolder("dsdc-cues-");
        var dir = scratch.Path;
        File.WriteAllBytes(Path.Combine(dir, ModelArtifacts.OnnxFile), exported.MainOnnx);
        foreach (var (name, bytes) in exported.Extra) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        var manifest = new ModelManifest(1, "fused-vc", Dsdc.Shared.DocumentClasses.Names, "test", "1", 8, OnnxExport.InputName, OnnxExport.OutputName,
            default, new ModelScores(0, 0, 0, [], []), DateTime.UtcNow, exported.Views) { KnownClasses = exported.KnownClasses, Calibration = exported.Calibration };
        using var served = new ViewEnsembleRunner(new ChampionModel(1, Path.Combine(dir, ModelArtifacts.OnnxFile), manifest), OnnxMlpRunner.CpuSession);
        var actual = served.Predict(probe);

        for (var i = 0; i < probe.Count; i++)
            for (var c = 0; c < 16; c++)
                Assert.True(Math.Abs(expected[i][c] - actual[i][c]) < 1e-4, $"page {i} class {c}: {expected[i][c]} vs {actual[i][c]}");
    }
}
