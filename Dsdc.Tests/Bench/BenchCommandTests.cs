using Dsdc.Bench;
using Dsdc.Inference;
using Dsdc.Shared.Cli;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Training;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Tests.Bench;

/// <summary>Dsdc.Bench's measuring commands run on the product's services over the labelled pages of <see cref="TrainingApp"/>.</summary>
[Collection(TrainingCollection.Name)]
public sealed class BenchCommandTests(TrainingApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private T Command<T>() where T : ICliCommand => ActivatorUtilities.CreateInstance<T>(app.Services);

    /// <summary>Runs a command that must answer 0; when it does not, the failure says what the labelled pages held then
    /// (a probe answers 1 when some page lacks the features it reads).</summary>
    private async Task SucceedsAsync<T>(string[] args) where T : ICliCommand
    {
        var code = await Command<T>().RunAsync(args, Ct);
        if (code == 0) return;
        var pages = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        Assert.Fail($"{typeof(T).Name} {string.Join(' ', args)} answered {code}; {pages.Count} labelled pages are stored, " +
            $"{pages.Count(p => p.Inputs.Regions is null)} of them without region features, {pages.Count(p => p.Inputs.Vector.Length == 0)} without a vector");
    }

    [Fact]
    public async Task CrossValidateLearningCurveAndZeroShotMeasureTheLabelledDocuments()
    {
        await SucceedsAsync<CrossValidateCommand>(["--variants", "fused-tv", "--folds", "3", "--repeats", "1", "--json"]);
        await SucceedsAsync<LearningCurveCommand>(["--recipe", "fused-tv", "--repeats", "1", "--json"]);
        await SucceedsAsync<LearningCurveCommand>(["--recipe", "fused-tv-uncalibrated", "--repeats", "1", "--sharpen"]);
        await SucceedsAsync<CrossSourceCommand>([Datasets.Root, "--recipe", "fused-tv"]);
        await SucceedsAsync<ReviewProbeCommand>(["--recipe", "fused-tv"]);
        Assert.Equal(2, await Command<CrossSourceCommand>().RunAsync(["--recipe", "fused-tv"], Ct));
        await SucceedsAsync<TrainingCostCommand>(["--sizes", "1", "--split-sizes", "2"]);
        var pages = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        var doubled = TrainingCostCommand.Repeat(pages, 2, 1);
        Assert.Equal(2 * pages.Count, doubled.Select(p => p.DocumentId).Distinct().Count());
        Assert.Equal([.. pages.Select(p => p.Label), .. pages.Select(p => p.Label)], doubled.Select(p => p.Label));
        await SucceedsAsync<ZeroShotCommand>(["--json"]);
        await SucceedsAsync<ZeroShotCommand>(["--half", "holdout", "--confusion"]);
        Assert.Equal(2, await Command<ZeroShotCommand>().RunAsync(["--half", "second"], Ct));
    }

    [Fact]
    public async Task TheProbesRunOnTheLabelledDocuments()
    {
        await SucceedsAsync<ImageProbeCommand>(["--only", "s3-grid3"]);
        await SucceedsAsync<StackProbeCommand>(["--only", "tvr,tvr-perclass-1,tv+11r,wcvr,tvR,early,t:binary,tvrs,tvr-alpha-logloss", "--per-class"]);
        await SucceedsAsync<AugmentationProbeCommand>(["--copies", "1"]);
        await SucceedsAsync<SelfTrainingCommand>(["--repeats", "1", "--rounds", "1"]);
        await SucceedsAsync<ActiveLearningCommand>(["--folds", "2", "--repeats", "1", "--batch", "8", "--max", "16", "--rules", "production", "--calibration"]);
        await SucceedsAsync<ExtraViewsCommand>(["--recipe", "fused-tv", "--all-only", "--reliability"]);
        await SucceedsAsync<Dsdc.Ocr.OcrScalingBenchmarkCommand>([Datasets.Root, "--pages", "3"]);
    }

    [Fact]
    public void TextStatisticsDescribeTheShapeOfTheOcrText()
    {
        var empty = StackProbeCommand.TextStatistics("");
        Assert.All(empty, x => Assert.True(float.IsFinite(x)));
        var figures = StackProbeCommand.TextStatistics("BUDGET 1998\n\nSalaries: $ 12,500\nTravel: $ 3,000\n");
        var prose = StackProbeCommand.TextStatistics("Dear Sir, thank you for your letter of last week about the meeting we had in New York.\n");
        Assert.Equal(empty.Length, figures.Length);
        Assert.True(figures[16] > prose[16], "a budget's text has more digits");
        Assert.True(figures[11] > prose[11], "and more label lines with a colon");
        Assert.True(prose[8] > figures[8], "a letter's lines are long");
    }

    [Fact]
    public void RunLengthHistogramsSeeRulesAndTheirDirection()
    {
        // A white 300x100 page with three full-width black rules, 2 pixels thick.
        const int width = 300, height = 100;
        var rgb = Enumerable.Repeat((byte)255, width * height * 3).ToArray();
        foreach (var y0 in new[] { 20, 50, 80 })
            for (var y = y0; y < y0 + 2; y++)
                for (var x = 0; x < width; x++) rgb[(y * width + x) * 3] = rgb[(y * width + x) * 3 + 1] = rgb[(y * width + x) * 3 + 2] = 0;

        var features = RunLengthHistograms.Compute(rgb, width, height, [1]);

        Assert.Equal(RunLengthHistograms.Dimensions([1]), features.Length);
        Assert.Equal(1.0, Math.Sqrt(features.Sum(v => (double)v * v)), 5);
        const int bins = RunLengthHistograms.Bins;
        // Horizontal ink runs are the whole width (last bin); vertical ink runs are 2 pixels long (bin 1).
        Assert.True(features[bins - 1] > 0 && features[..(bins - 1)].All(v => v == 0), "horizontal ink runs span the page");
        var verticalInk = features[(2 * bins)..(3 * bins)];
        Assert.True(verticalInk[1] > 0 && verticalInk.Where((_, i) => i != 1).All(v => v == 0), "vertical ink runs are the rules' thickness");
        Assert.InRange(RunLengthHistograms.Otsu([10, 10, 200, 200]), 11, 200);
    }

    /// <summary>The tiles probe cuts the page into its grid in reading order and pools the tiles' features; the normalisation
    /// probe's binarised page is black and white at Otsu's threshold and its stretched page spans black to white.</summary>
    [Fact]
    public void ThePageTilesAndTheNormalisedPagesAreWhatTheProbesSay()
    {
        // A 448x672 page (2x3 tiles of 224): each pixel's red is the number of its tile, green and blue its place in it.
        const int width = 448, height = 672, size = Dsdc.ImageProcessing.PageRegions.Size;
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                (rgb[(y * width + x) * 3], rgb[(y * width + x) * 3 + 1], rgb[(y * width + x) * 3 + 2]) = ((byte)(y / size * 2 + x / size), (byte)(x % size), (byte)(y % size));
        var tiles = PageTiles.Cut(rgb, width, 2, 3).ToList();
        Assert.Equal(6, tiles.Count);
        for (var t = 0; t < tiles.Count; t++)
        {
            Assert.Equal(size * size * 3, tiles[t].Length);
            for (var p = 0; p < size * size; p++)
                if ((tiles[t][3 * p], tiles[t][3 * p + 1], tiles[t][3 * p + 2]) != (t, p % size, p / size))
                    Assert.Fail($"tile {t}, pixel {p}: {tiles[t][3 * p]}, {tiles[t][3 * p + 1]}, {tiles[t][3 * p + 2]}");
        }
        Assert.Equal([2f, 4f, 3f, 6f], PageTiles.Pool([[1, 2], [3, 6]], max: true));
        Assert.Equal([2f, 4f], PageTiles.Pool([[1, 2], [3, 6]], max: false));

        // A grey page: paper at 180-200, ink at 60-80.
        var page = Enumerable.Range(0, 1000).SelectMany(i => Enumerable.Repeat((byte)(i % 10 == 0 ? 60 + i % 21 : 180 + i % 21), 3)).ToArray();
        var binary = NormalisationProbeCommand.Binarised(page);
        Assert.Equal(page.Length, binary.Length);
        Assert.All(binary, b => Assert.True(b is 0 or 255));
        Assert.Equal(100 * 3, binary.Count(b => b == 0));
        var stretched = NormalisationProbeCommand.Stretched(page);
        Assert.Equal(0, stretched.Min());
        Assert.Equal(255, stretched.Max());
        Assert.All(Enumerable.Range(0, 1000), i => Assert.True(stretched[3 * i] == stretched[3 * i + 2] && (page[3 * i] < 128) == (stretched[3 * i] < 128)));
    }

    /// <summary><c>stackprobe --text-model</c> pointed at the production MiniLM, mean-pooled over its 256 word pieces, reads a text
    /// exactly as the production encoder does; its variants run on the labelled pages.</summary>
    [Fact]
    public async Task AnotherTextEncoderGivenTheProductionModelReadsLikeIt()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "EmbeddingModels", "all-MiniLM-L6-v2");
        // Words that do not repeat, well past 256 word pieces, so that a cut in another place changes the mean.
        var text = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"{DocumentClassesWord(i)}{i * 7919 % 1000}"));
        var sessions = app.Get<Dsdc.Embedding.OnnxSessionFactory>();
        var both = app.Get<Dsdc.Embedding.IDocumentEncoder>().EmbedTexts([text, "Dear Sir"], Ct);
        var production = both[0];
        // Another reading: apart by far more than the 1e-4 that two computations of the same reading may differ by.
        static void Differ(float[] a, float[] b, string what)
        {
            var apart = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(apart > 1e-3, $"{what}: the largest difference is {apart}");
        }
        using (var mean = new OtherTextEncoder(sessions, folder, 256, clsPooling: false))
        {
            var got = mean.Embed(text);
            Assert.Equal(production.Length, got.Length);
            Assert.All(Enumerable.Range(0, got.Length), j => Assert.True(Math.Abs(production[j] - got[j]) < 1e-4, $"dimension {j}: {production[j]} vs {got[j]}"));
            Assert.True(Math.Abs(1 - got.Sum(x => x * x)) < 1e-4);
            // The short text, padded in the production batch, alone here.
            var letter = mean.Embed("Dear Sir");
            Assert.All(Enumerable.Range(0, letter.Length), j => Assert.True(Math.Abs(both[1][j] - letter[j]) < 1e-4, $"dimension {j}: {both[1][j]} vs {letter[j]}"));
            // Fewer word pieces, or every chunk of 150 words read in full, read another text.
            using var shorter = new OtherTextEncoder(sessions, folder, 128, clsPooling: false);
            Differ(got, shorter.Embed(text), "128 word pieces against 256");
            Differ(got, mean.EmbedChunked(text, 150), "150-word chunks against the first 256 word pieces");
        }
        using (var cls = new OtherTextEncoder(sessions, folder, 256, clsPooling: true))
            Differ(cls.Embed(text), production, "[CLS] pooling against the mean");
        Assert.Throws<FileNotFoundException>(() => new OtherTextEncoder(sessions, AppContext.BaseDirectory, 256, true));

        await SucceedsAsync<StackProbeCommand>(["--only", "x,tvr+x,t(ixc)r", "--text-model", folder, "--text-pooling", "mean", "--text-tokens", "256"]);
        Assert.Equal(2, await Command<StackProbeCommand>().RunAsync(["--only", "x", "--text-model", folder, "--text-pooling", "max"], Ct));
        Assert.Equal(2, await Command<StackProbeCommand>().RunAsync(["--only", "x", "--text-model", folder, "--text-tokens", "2"], Ct));
        // Without --text-model the x variants do not exist: said at once, not a failure halfway through.
        Assert.Equal(2, await Command<StackProbeCommand>().RunAsync(["--only", "tvr,tvr+x"], Ct));
    }

    /// <summary>Tesseract's TSV read as it is written: the page's size on its level-1 row, a line per (block, paragraph, line)
    /// since Tesseract numbers lines again in each paragraph, elements without text skipped, confidences as floats.</summary>
    [Fact]
    public void WordBoxesReadTesseractsTsv()
    {
        var tsv = string.Join('\n',
            "1\t1\t0\t0\t0\t0\t0\t0\t1000\t2000\t-1\t",
            "4\t1\t1\t1\t1\t0\t100\t100\t300\t20\t-1\t",
            "5\t1\t1\t1\t1\t1\t100\t100\t200\t20\t96.5\tMEMORANDUM",
            "5\t1\t1\t1\t1\t2\t350\t100\t50\t20\t40\t-",
            "5\t1\t1\t2\t1\t1\t100\t1800\t100\t10\t88.25\tSincerely,",
            "5\t1\t2\t1\t1\t1\t600\t1000\t100\t10\t70\t ",
            "5\t1\t2\t1\t1\t2\t700\t1000\t100\t10\t70\tTotal",
            "");

        var words = WordBoxes.Parse(tsv);

        Assert.Equal(["MEMORANDUM", "-", "Sincerely,", "Total"], words.Select(w => w.Text));
        Assert.Equal([0, 0, 1, 2], words.Select(w => w.Line));
        Assert.Equal(new BoxedWord("MEMORANDUM", 0.2f, 0.055f, 0.01f, 0, 96.5f), words[0]);
        Assert.Equal(88.25f, words[2].Confidence);
        var terms = WordBoxes.Terms(words, "zsb").ToList();
        Assert.Equal(["zt:memorandum", "s:memorandum", "st:memorandum", "B:memorandum", "zb:sincerely", "s:sincerely", "sb:sincerely", "zm:total", "s:total", "sm:total"], terms);
        Assert.Equal("MEMORANDUM -\nSincerely,\nTotal", WordBoxes.ConfidentText(words, 0));
        Assert.Equal("MEMORANDUM\nSincerely,", WordBoxes.ConfidentText(words, 80));
    }

    /// <summary>The words' boxes of a real memo through the pooled engine: the same words as its text, placed on the page, the
    /// memo's heading in the top fifth; <c>stackprobe --word-boxes</c> reads every labelled page once, then from its cache.</summary>
    [Fact]
    public async Task TheWordBoxesPlaceARealPagesWordsAndThePositionalViewsRun()
    {
        var decoder = app.Get<Dsdc.ImageProcessing.ImageDecoder>();
        var pool = app.Get<Dsdc.Ocr.TesseractEnginePool>();
        using var page = decoder.DecodeFirstPage(decoder.ReadFile(Dsdc.Tests.ImageProcessing.TestDocuments.JpegMemo), Dsdc.ImageProcessing.DocumentFormat.Jpeg);
        var tsv = await pool.RunAsync(e => e.RecogniseTsv(page, 0), Ct);
        var plain = await pool.RunAsync(e => e.Recognise(page, 0), Ct);

        var words = WordBoxes.Parse(tsv);
        static string[] Tokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Tokens(plain.Text), words.Select(w => w.Text));
        Assert.All(words, w => Assert.True(w is { X: > 0 and < 1, Y: > 0 and < 1, Height: > 0 and < 0.5f, Confidence: >= 0 and <= 100 }, w.ToString()));
        var heading = words.First(w => w.Text == "RECORDS");
        Assert.True(heading.Y < 0.2f, $"the heading sits at {heading.Y:F2} of the page's height");
        Assert.Equal(Tokens(plain.Text), Tokens(WordBoxes.ConfidentText(words, 0)));
        var terms = WordBoxes.Terms(words, "zsb").ToList();
        Assert.Contains("zt:records", terms);
        Assert.Contains(terms, t => t.StartsWith("s:", StringComparison.Ordinal));

        using var scratch = new ScratchFolder("dsdc-wordboxes-");
        var cache = scratch.File("boxes.json");
        await SucceedsAsync<StackProbeCommand>(["--word-boxes", cache, "--only", "pz,tvr+pzsb,tvr:q50"]);
        var stored = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, List<BoxedWord>>>(File.ReadAllText(cache))!;
        Assert.Equal((await app.Get<TrainingDataLoader>().LoadAllAsync(Ct)).Count, stored.Count);
        var written = File.GetLastWriteTimeUtc(cache);
        await SucceedsAsync<StackProbeCommand>(["--word-boxes", cache, "--only", "pgsb"]);
        Assert.Equal(written, File.GetLastWriteTimeUtc(cache));
    }

    private static string DocumentClassesWord(int i) => Dsdc.Shared.DocumentClasses.Names[i % Dsdc.Shared.DocumentClasses.Count].Replace(' ', '-');

    /// <summary>bench-pdf runs the production reader (real mutool) over the PDFs of a folder and a generated one; the
    /// reader's results are asserted in DocumentInspectorTests.</summary>
    [Fact]
    public async Task BenchPdfReadsEveryPdfUnderTheFolder()
    {
        using var scratch = new ScratchFolder("dsdc-bench-pdf-");
        File.Copy(Dsdc.Tests.ImageProcessing.TestDocuments.TwoPageTextPdf, scratch.File("two.pdf"));
        using var services = new Dsdc.Tests.ImageProcessing.ImagingServices();
        var command = new Dsdc.ImageProcessing.PdfReadingBenchmarkCommand(services.Get<Dsdc.ImageProcessing.PdfPages>());

        Assert.Equal(0, await command.RunAsync([scratch.Path, "--repeats", "1", "--drawing-bomb", "1000"], Ct));
        Assert.Equal(2, await command.RunAsync([scratch.File("missing")], Ct));
    }

    [Fact]
    public void TheBenchHostRegistersEveryMeasuringCommand()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddBenchCommands();

        var names = builder.Services.Where(s => s.ServiceType == typeof(ICliCommand)).Select(s => s.ImplementationType!.Name).Order();

        Assert.Equal(["ActiveLearningCommand", "AugmentationProbeCommand", "CrossSourceCommand", "CrossValidateCommand", "EmbeddingBenchmarkCommand", "ExtraViewsCommand", "FineTuneCommand", "ImageProbeCommand",
            "LearningCurveCommand", "NormalisationProbeCommand", "OcrScalingBenchmarkCommand", "OrientationProbeCommand", "PdfReadingBenchmarkCommand", "PredictBenchmarkCommand", "ReviewProbeCommand", "ReviewQueueBenchmarkCommand", "SelfTrainingCommand",
            "StackProbeCommand", "TrainingCostCommand", "ZeroShotCommand"], names);
    }
}
