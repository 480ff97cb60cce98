using System.Globalization;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>stackprobe [--only a,b] [--per-class]</c>: variations of <c>fused-tvr</c>'s views and stacking, by the same repeated k-fold and
/// the same top-label calibration: a stacking weight per view and class (w_vc = exp(theta_v + delta_vc), the deltas
/// penalised towards the one weight per view of production), each of the 11 regions as a view of its own (with and
/// without the concatenated regions view), the vector split into its image and sentence halves, the TF-IDF's word
/// terms and character n-grams as two views, a text embedding of the whole OCR text (mean over 150-word chunks), a
/// Gaussian kernel on the image views (<see cref="KernelRidge"/>), early fusion: one ridge over all the features, the
/// text TF-IDF's recipe varied (<c>t:NAME</c> alone, <c>tvr:NAME</c> fused), statistics of the OCR text's shape as a view
/// (<see cref="TextStatistics"/>), run-length histograms of the binarised page as a view (<see cref="RunLengthHistograms"/>,
/// variants <c>rl*</c>), a subset of the regions (<c>tvr@1-2-4-5</c>), a bias per class on the stacked logits
/// (<c>tvr+bias:PENALTY</c>), each ridge's regularisation chosen by leave-one-out accuracy or log-loss, and another sentence
/// encoder's embedding of the OCR text (<c>--text-model DIR</c>, <see cref="OtherTextEncoder"/>; variants <c>x</c>, <c>xc</c>,
/// <c>tvr+x</c>, <c>tvr+xc</c>, <c>t(ix)r</c>, <c>t(ixc)r</c>), where the words sit on the page and the text of the words
/// read with confidence (<c>--word-boxes FILE</c>, <see cref="WordBoxes"/>; variants <c>p*</c>, <c>q*</c>), and ResNet18 on
/// tiles of the page near the scan's resolution (<c>--tiles FILE</c>, <see cref="PageTiles"/>; variants <c>T*</c>), each view
/// with a logistic or squared-hinge loss instead of the ridge's (<see cref="LinearLoss"/>; variants <c>*-lr</c>, <c>*-svm</c>),
/// and the file's own facts as a view (<see cref="MetadataFeatures"/>; variants <c>m</c>, <c>tvr+m</c>, <c>tv+m</c>).
/// <c>--per-class</c> adds each class's recall, precision and main confusions; <c>--errors FILE</c> writes every wrong
/// out-of-fold answer (variant, document, truth, answer, confidence, the start of its text) as tab-separated lines. The classes' cue
/// words as a view (<c>cue</c>, <c>tvr:ar+cue</c> = production's <c>fused-tvrc</c>), with fewer features per cue or a longer
/// lexicon (<c>cuec</c>, <c>cueh</c>, <c>cuex</c>), the zero-shot model's logits as a view (<c>zsl</c>), and a lexicon chosen
/// from the training side's labels (<see cref="LearnedLexicon"/>; variants <c>lexK</c>, <c>tvr:ar+lexK</c>, <c>tvr:ar+cue+lexK[-cv5]</c>), the training pages that look mislabelled left out
/// (<c>tvr:ar+cue-cleanP</c>), the cues matched through OCR's confusions (<c>cuef</c>, <c>tvr:ar+cuef</c>), a linear pool
/// mixed into the stacked probabilities (<c>tvr:ar+cue-mix[SHARE]</c>), the two first classes decided again by a model of those
/// two alone (<c>tvr:ar+cue-ovo</c>), and each class's regularisation chosen on its own (<c>tvr:ar+cue-apc</c>, <c>-apcw</c>, <c>-aw</c>).
/// </summary>
internal sealed class StackProbeCommand(TrainingDataLoader loader, Dsdc.Embedding.IDocumentEncoder encoder, Dsdc.Ingestion.DocumentStore documents,
    Dsdc.ImageProcessing.IDocumentInspector inspector, Dsdc.ImageProcessing.IImagePreprocessor preprocessor, Dsdc.Shared.DsdcPaths paths,
    Dsdc.Embedding.OnnxSessionFactory sessions, Dsdc.ImageProcessing.ImageDecoder decoder, Dsdc.ImageProcessing.PdfPageRenderer renderer,
    Dsdc.Ocr.TesseractEnginePool pool, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "stackprobe";
    public string Usage => "[--only a,b] [--per-class] [--errors FILE] [--word-boxes FILE [--more-boxes F1,F2]] [--boxes-dpi N] [--spec-readings] [--tiles FILE] [--cropped-regions FILE] [--other-reading FILE] [--text-model DIR [--text-pooling cls|mean] [--text-tokens N]]  variations of the fused model's views and stacking";

    private sealed record ProbeView(string Name, Func<IReadOnlyList<LabelledPage>, Func<PageInputs, float[]>> Featurizer, bool Standardize, bool Rbf = false)
    {
        /// <summary>How the ridge's regularisation is chosen: null = production (leave-one-out squared error), "accuracy", "logloss".</summary>
        public string? AlphaBy { get; init; }

        /// <summary>Fits the view itself (early fusion): leave-one-out scores and a scorer.</summary>
        public Func<IReadOnlyList<LabelledPage>, IReadOnlyList<int>, (double[][] Loo, Func<PageInputs, double[]> Score)>? Custom { get; init; }
    }

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var docs = await loader.LoadAllAsync(ct);
        if (docs.Count < 4 || docs.Any(d => d.Inputs.Regions is null))
        {
            Console.Error.WriteLine("stackprobe needs labelled documents with region features: ingest a labelled corpus first.");
            return 1;
        }
        const int regionSize = 512;
        var regionCount = docs[0].Inputs.Regions!.Length / regionSize;
        var alphaLog = new List<string>();

        // Production's TF-IDF over a text of the page, fitted on the training pages. "text" reads the main OCR reading alone
        // (production until Ocr:ExtraReadings; "tvr" is fused-tvr-onereading); --more-boxes gives the readings' variants.
        ProbeView TextView(string name, Func<PageInputs, string> textOf) => new(name, train =>
        {
            var t = RawTextTfidf.Fit(train.Select(d => textOf(d.Inputs)), minDocumentFrequency: RawTextTfidf.MinDocumentFrequencyFor(train.Count));
            return p => t.Transform(textOf(p));
        }, false);
        var text = TextView("text", p => p.RawText);
        // Production's readings view: the main reading and the stored extra readings ("ar" alone, "tvr:ar" = fused-tvr).
        var allReadings = TextView("readings-stored", p => p.AllReadings);
        // A text view whose TF-IDF vector is scaled by n / (n + k), n the main reading's words of two letters or more: the L2
        // norm makes a page with five words of OCR debris as loud as a page of text; here it speaks in proportion.
        static int WordsOf(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Count(w => w.Count(char.IsLetter) >= 2);
        ProbeView Gated(ProbeView view, double k) => view with
        {
            Name = view.Name + "-g" + k,
            Featurizer = train =>
            {
                var f = view.Featurizer(train);
                return p =>
                {
                    var v = f(p);
                    var n = WordsOf(p.RawText);
                    var g = (float)(n / (n + k));
                    for (var i = 0; i < v.Length; i++) v[i] *= g;
                    return v;
                };
            },
        };
        var vector = new ProbeView("vector", _ => p => p.Vector, true);
        ProbeView Terms(string name, TextSpec spec) => new(name, train => GeneralTfidf(train, spec, p => p.RawText), false);
        var words = Terms("words", new TextSpec(Chars: false));
        var chars = Terms("chars", new TextSpec(Words: false));
        var regions = new ProbeView("regions", _ => p => p.Regions!, true);
        ProbeView Region(int k) => new($"region{k}", _ => p => p.Regions![(k * regionSize)..((k + 1) * regionSize)], true);
        var perRegion = Enumerable.Range(0, regionCount).Select(Region).ToList();
        var image = new ProbeView("image", _ => p => p.Vector[..p.ImageDimensions], true);
        var sentence = new ProbeView("sentence", _ => p => p.Vector[p.ImageDimensions..], true);

        // The text embedding of the whole OCR text: the mean of the encoder's embeddings of consecutive 150-word chunks
        // (the vector's text half reads only the first 256 word pieces).
        var chunked = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (cli.Value("--only") is not { } sel || sel.Contains("chunk"))
            foreach (var d in docs)
                chunked[d.DocumentId] = ChunkedText.Mean(d.Inputs.RawText, 150, chunks => encoder.EmbedTexts(chunks, ct));
        var idOf = new Dictionary<PageInputs, string>(ReferenceEqualityComparer.Instance);
        foreach (var d in docs) idOf[d.Inputs] = d.DocumentId;
        var whole = new ProbeView("chunked", _ => p => chunked[idOf[p]], true);
        var imageAndWhole = new ProbeView("image+chunked", _ => p => [.. p.Vector[..p.ImageDimensions], .. chunked[idOf[p]]], true);
        // Another sentence encoder's embedding of the OCR text (--text-model DIR): of its first word pieces ("x") and the
        // mean over 150-word chunks ("xc"), alone, beside the three views, and in place of the vector's MiniLM half.
        var other = new Dictionary<string, (float[] First, float[]? Chunked)>(StringComparer.Ordinal);
        if (cli.Value("--text-model") is { } textModel)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var pooling = cli.Value("--text-pooling") ?? "cls";
            if (pooling is not ("cls" or "mean"))
            {
                Console.Error.WriteLine($"--text-pooling must be cls or mean, not '{pooling}'.");
                return 2;
            }
            var tokens = cli.Int("--text-tokens") ?? 512;
            if (tokens < 3)
            {
                Console.Error.WriteLine($"--text-tokens must be at least 3, not {tokens}.");
                return 2;
            }
            // The chunked reading costs a model run per 150 words: only for the variants that read it.
            var wantsChunks = cli.Value("--only") is not { } xSel || xSel.Split(',').Any(v => v.Contains("xc", StringComparison.Ordinal));
            using var x = new OtherTextEncoder(sessions, textModel, tokens, pooling == "cls");
            foreach (var d in docs) other[d.DocumentId] = (x.Embed(d.Inputs.RawText), wantsChunks ? x.EmbedChunked(d.Inputs.RawText, 150) : null);
            Console.WriteLine($"{textModel} ({pooling} pooling) on {docs.Count} texts in {watch.Elapsed.TotalSeconds:F1} s");
        }
        ProbeView Early(string name, double[] grid) => new(name, _ => throw new InvalidOperationException("fitted by Custom"), false)
        {
            Custom = (train, labels) => EarlyFusion(train, labels, grid),
        };
        // A view whose stacking scores come from an inner stratified k-fold instead of the closed-form leave-one-out: each
        // inner fit builds its own features (the TF-IDF vocabulary and idf, the standardisation) without the documents it
        // scores, at the regularisation the whole training side chose; the view that serves is fitted on every document.
        // The closed form keeps a left-out document in the vocabulary, the idf and the standardisation.
        ProbeView Honest(ProbeView v, int k) => v with
        {
            Name = v.Name + "-cv" + k,
            Custom = (train, labels) =>
            {
                var f = v.Featurizer(train);
                var full = RidgeView.Fit(train.Select(d => f(d.Inputs)).ToList(), labels, v.Standardize);
                var scores = new double[train.Count][];
                var folds = RepeatedCrossValidation.Folds(labels, k, 1, 11)[0];
                for (var fold = 0; fold < k; fold++)
                {
                    var inside = Enumerable.Range(0, train.Count).Where(i => folds[i] != fold).ToList();
                    var sub = inside.Select(i => train[i]).ToList();
                    var fs = v.Featurizer(sub);
                    var r = RidgeView.Fit(sub.Select(d => fs(d.Inputs)).ToList(), inside.Select(i => labels[i]).ToList(), v.Standardize, alphas: [full.Alpha]);
                    for (var i = 0; i < train.Count; i++)
                        if (folds[i] == fold) scores[i] = r.Scores(fs(train[i].Inputs));
                }
                return (scores, p => full.Scores(f(p)));
            },
        };
        var variants = new List<(string Name, List<ProbeView> Views, double ClassPenalty)>
        {
            ("tcv10+vr", [Honest(text, 10), vector, regions], double.PositiveInfinity),
            ("tvr-cv10", [Honest(text, 10), Honest(vector, 10), Honest(regions, 10)], double.PositiveInfinity),
            ("tvr-cv5", [Honest(text, 5), Honest(vector, 5), Honest(regions, 5)], double.PositiveInfinity),
            ("early", [Early("early", [1])], double.PositiveInfinity),
            ("early-grid", [Early("early-grid", [0.5, 1, 2])], double.PositiveInfinity),
            ("early+tvr", [Early("early-grid", [0.5, 1, 2]), text, vector, regions], double.PositiveInfinity),
            ("tvr", [text, vector, regions], double.PositiveInfinity),
            ("ar", [allReadings], double.PositiveInfinity),
            ("tvr:ar", [allReadings, vector, regions], double.PositiveInfinity),
            ("tr:ar", [allReadings, regions], double.PositiveInfinity),
            ("tir:ar", [allReadings, image, regions], double.PositiveInfinity),
            ("tvr+ar", [text, allReadings, vector, regions], double.PositiveInfinity),
            ("ar-g20", [Gated(allReadings, 20)], double.PositiveInfinity),
            ("ar-g50", [Gated(allReadings, 50)], double.PositiveInfinity),
            ("tvr:ar-g10", [Gated(allReadings, 10), vector, regions], double.PositiveInfinity),
            ("tvr:ar-g20", [Gated(allReadings, 20), vector, regions], double.PositiveInfinity),
            ("tvr:ar-g50", [Gated(allReadings, 50), vector, regions], double.PositiveInfinity),
            ("tvr:ar-g100", [Gated(allReadings, 100), vector, regions], double.PositiveInfinity),
            ("tvr:ar-g200", [Gated(allReadings, 200), vector, regions], double.PositiveInfinity),
            ("tvr-perclass-1", [text, vector, regions], 1),
            ("tvr-perclass-0.1", [text, vector, regions], 0.1),
            ("tvr-perclass-0.01", [text, vector, regions], 0.01),
            ("tv+11r", [text, vector, .. perRegion], double.PositiveInfinity),
            ("tvr+chunk", [text, vector, regions, whole], double.PositiveInfinity),
            ("t(ic)r-chunk", [text, imageAndWhole, regions], double.PositiveInfinity),
            ("wcvr", [words, chars, vector, regions], double.PositiveInfinity),
            ("twcvr", [text, words, chars, vector, regions], double.PositiveInfinity),
            ("tv+r+11r", [text, vector, regions, .. perRegion], double.PositiveInfinity),
            ("tisr", [text, image, sentence, regions], double.PositiveInfinity),
            ("tvR", [text, vector, regions with { Name = "regions-rbf", Rbf = true }], double.PositiveInfinity),
            ("tVR", [text, vector with { Name = "vector-rbf", Rbf = true }, regions with { Name = "regions-rbf", Rbf = true }], double.PositiveInfinity),
            ("tvr+R", [text, vector, regions, regions with { Name = "regions-rbf", Rbf = true }], double.PositiveInfinity),
            ("tvr+VR", [text, vector, regions, vector with { Name = "vector-rbf", Rbf = true }, regions with { Name = "regions-rbf", Rbf = true }], double.PositiveInfinity),
            ("R", [regions with { Name = "regions-rbf", Rbf = true }], double.PositiveInfinity),
            ("V", [vector with { Name = "vector-rbf", Rbf = true }], double.PositiveInfinity),
        };
        // The text view's TF-IDF recipe varied, alone and beside the vector and regions; with --spec-readings over the main
        // reading and the stored extra readings (production's readings view) instead of the main reading alone.
        Func<PageInputs, string> specText = cli.Flag("--spec-readings") ? p => p.AllReadings : p => p.RawText;
        foreach (var (tname, spec) in TextSpecs)
        {
            var view = new ProbeView("text-" + tname, train => GeneralTfidf(train, spec, specText), false);
            variants.Add(("t:" + tname, [view], double.PositiveInfinity));
            variants.Add(("tvr:" + tname, [view, vector, regions], double.PositiveInfinity));
        }
        var stats = new ProbeView("textstats", _ => p => TextStatistics(p.RawText), true);
        // The classes' cue words as a view (production's fused-tvrc is "tvr:ar+cue"): fewer features per cue (only the
        // counts in every reading: "cuec"; and whether the cue is in the first lines: "cueh"), and the zero-shot model's
        // logits as features a ridge weighs instead ("zsl").
        var production = CueLexicon.Default;
        // CueLexicon keeps each page's features while the page lives: no cache of the probe's own.
        var cues = new ProbeView("cues", _ => production.Transform, true);
        var cueCounts = new ProbeView("cue-counts", _ => p => production.Transform(p).Where((_, i) => i % 3 == 0).ToArray(), true);
        var cueHead = new ProbeView("cue-counts-head", _ => p => production.Transform(p).Where((_, i) => i % 3 != 2).ToArray(), true);
        var zeroShot = new Dsdc.Inference.ZeroShotModel(encoder);
        var zsl = new ProbeView("zslogits", _ => p => zeroShot.Logits(p).Select(x => (float)x).ToArray(), true);
        // A longer lexicon: more of what marks each class's pages, written from the classes' conventions ("cuex").
        string[] extra =
        [
            "yours sincerely", "sincerely yours", "enclosure", "enclosures", "encl", "gentlemen", "dear sir", "dear mr", "dear dr", "dear ms", "regards",
            "name:", "address:", "phone:", "telephone", "zip", "city", "state", "signed", "please complete", "for office use", "official use", "received by", "authorized", "___",
            "wrote:", ".com", "forwarded", "attachments", "reply",
            "new", "now", "call", "only", "price", "®", "™", "special", "today", "available",
            "results", "conclusion", "method", "methods", "table", "data", "test", "report", "project", "purpose", "discussion",
            "fig", "figure", "university", "department of", "proc", "received", "accepted", "copyright", "©",
            "spec", "mm", "±", "max", "min", "revision", "rev", "standard", "grade", "material", "dimensions", "shall", "specified",
            "associated press", "(ap)", "says", "told", "editorial", "times", "post", "daily", "news",
            "total", "fy", "year", "cost", "costs", "amount", "funds", "funding", "subtotal", "increase", "proposed", "%", "$",
            "invoice no", "invoice number", "invoice date", "ship to", "sold to", "purchase order", "p.o.", "due", "tax", "payment", "net 30", "customer", "account",
            "•", "slide", "goals", "key", "background", "summary", "plan", "phase", "timeline",
            "yes", "no", "don't know", "strongly", "somewhat", "not at all", "circle", "check", "answer", "rate", "how many", "how much", "which",
            "personal", "married", "b.s.", "m.s.", "ph.d", "present", "positions", "honors", "professional", "member",
            "copy to", "copies", "attached", "confidential", "file:", "office",
        ];
        var longer = new CueLexicon(production.Cues.Concat(extra).Distinct().ToList());
        var cuesX = new ProbeView("cues-longer", _ => longer.Transform, true);
        variants.Add(("cuex", [cuesX], double.PositiveInfinity));
        // The cues matched through OCR's usual confusions ("cuef"): text and cues alike folded to one skeleton (1, l, i, |
        // and ! one letter; 0 and o; 5 and s; rn and m; vv and w), so "Sincere1y" and "rnemo" count.
        static string Skeleton(string? t)
        {
            if (string.IsNullOrEmpty(t)) return t ?? "";
            var b = new System.Text.StringBuilder(t.Length);
            foreach (var ch0 in t)
            {
                var ch = char.ToLowerInvariant(ch0);
                b.Append(ch switch { '1' or 'i' or '|' or '!' => 'l', '0' => 'o', '5' => 's', _ => ch });
            }
            return b.Replace("rn", "m").Replace("vv", "w").ToString();
        }
        var fuzzy = new CueLexicon(production.Cues.Select(Skeleton).Distinct().ToList());
        var fuzzyRows = new System.Runtime.CompilerServices.ConditionalWeakTable<PageInputs, float[]>();
        var cuesF = new ProbeView("cues-fuzzy", _ => p => fuzzyRows.GetValue(p, q => fuzzy.Transform(q with { RawText = Skeleton(q.RawText), Readings = q.Readings is null ? null : Skeleton(q.Readings) })), true);
        variants.Add(("cuef", [cuesF], double.PositiveInfinity));
        variants.Add(("tvr:ar+cuef", [allReadings, vector, regions, cuesF], double.PositiveInfinity));
        variants.Add(("tvr:ar+cue+cuef", [allReadings, vector, regions, cues, cuesF], double.PositiveInfinity));
        variants.Add(("tvr:ar+cuex", [allReadings, vector, regions, cuesX], double.PositiveInfinity));
        variants.Add(("cue", [cues], double.PositiveInfinity));
        variants.Add(("zsl", [zsl], double.PositiveInfinity));
        variants.Add(("tvr:ar+cue", [allReadings, vector, regions, cues], double.PositiveInfinity));
        variants.Add(("tvr:ar+cuec", [allReadings, vector, regions, cueCounts], double.PositiveInfinity));
        // Each class's regularisation chosen on its own column's leave-one-out squared error ("-apc"; scikit-learn's
        // alpha_per_target), from production's grid or a wider one ("-apcw": 3e-4 to 100); "-aw": the wider grid, one alpha.
        double[] wide = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10, 30, 100];
        ProbeView PerClass(ProbeView v, double[] grid, string suffix) => v with
        {
            Name = v.Name + suffix,
            Custom = (train, labels) =>
            {
                var f = v.Featurizer(train);
                var rows = train.Select(d => f(d.Inputs)).ToList();
                var fits = grid.Select(a => RidgeView.Fit(rows, labels, v.Standardize, alphas: [a])).ToList();
                var counts = labels.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
                var choice = new int[Shared.DocumentClasses.Count];
                for (var c = 0; c < choice.Length; c++)
                {
                    var bestError = double.PositiveInfinity;
                    for (var a = 0; a < fits.Count; a++)
                    {
                        double error = 0;
                        for (var i = 0; i < labels.Count; i++)
                        {
                            var r = (labels[i] == c ? 1 : -1) - fits[a].LooScores[i][c];
                            error += r * r / counts[labels[i]];
                        }
                        if (error < bestError) (bestError, choice[c]) = (error, a);
                    }
                }
                lock (alphaLog) alphaLog.Add(string.Join(" ", choice.Select(a => grid[a].ToString("G2", CultureInfo.InvariantCulture))));
                var loo = Enumerable.Range(0, labels.Count).Select(i => choice.Select((a, c) => fits[a].LooScores[i][c]).ToArray()).ToArray();
                return (loo, p =>
                {
                    var x = f(p);
                    var all = fits.Select(r => r.Scores(x)).ToList();
                    return choice.Select((a, c) => all[a][c]).ToArray();
                });
            },
        };
        ProbeView Wide(ProbeView v) => v with
        {
            Name = v.Name + "-aw",
            Custom = (train, labels) =>
            {
                var f = v.Featurizer(train);
                var r = RidgeView.Fit(train.Select(d => f(d.Inputs)).ToList(), labels, v.Standardize, alphas: wide);
                lock (alphaLog) alphaLog.Add(v.Name + " " + r.Alpha.ToString("G2", CultureInfo.InvariantCulture));
                return (r.LooScores, p => r.Scores(f(p)));
            },
        };
        variants.Add(("tvr:ar+cue-aw", [Wide(allReadings), Wide(vector), Wide(regions), Wide(cues)], double.PositiveInfinity));
        variants.Add(("tvr:ar+cue-apc", [PerClass(allReadings, RidgeView.Alphas, "-apc"), PerClass(vector, RidgeView.Alphas, "-apc"),
            PerClass(regions, RidgeView.Alphas, "-apc"), PerClass(cues, RidgeView.Alphas, "-apc")], double.PositiveInfinity));
        variants.Add(("tvr:ar+cue-apcw", [PerClass(allReadings, wide, "-apcw"), PerClass(vector, wide, "-apcw"),
            PerClass(regions, wide, "-apcw"), PerClass(cues, wide, "-apcw")], double.PositiveInfinity));
        // Training documents whose own label the stacked leave-one-out prediction gives less than a probability p are left
        // out and the model refitted without them ("-cleanP"): a page filed under the wrong class teaches its class the
        // wrong look (RVL-CDIP's labels are about 8% wrong); at most a third of a class's documents, and never its last two.
        // The stacked (log-linear) probabilities mixed with the mean of the views' own probabilities, each view's scores through
        // a softmax at the temperature fitted on its leave-one-out scores: a linear pool does not let one view that is sure and
        // wrong (the text view of a page whose only text is a Bates number) outvote the others. The share of the linear pool
        // is chosen by leave-one-out log-loss from 0-1 ("-mix"), or fixed ("-mix0.3", "-mix1").
        // The two classes the fused model ranks first decided again by a model of those two classes alone ("-ovo"): the same
        // views, stacked, fitted on the training pages of the two classes only, sharing out the pair's probability.
        variants.Add(("tvr:ar+cue-ovo", [allReadings, vector, regions, cues], double.PositiveInfinity));
        foreach (var share in new[] { "", "0.3", "1" })
            variants.Add(("tvr:ar+cue-mix" + share, [allReadings, vector, regions, cues], double.PositiveInfinity));
        foreach (var below in new[] { "0.02", "0.05", "0.1", "0.2" })
            variants.Add(("tvr:ar+cue-clean" + below, [allReadings, vector, regions, cues], double.PositiveInfinity));
        variants.Add(("tvr:ar+cueh", [allReadings, vector, regions, cueHead], double.PositiveInfinity));
        variants.Add(("tvr:ar+zsl", [allReadings, vector, regions, zsl], double.PositiveInfinity));
        variants.Add(("tvr:ar+cue+zsl", [allReadings, vector, regions, cues, zsl], double.PositiveInfinity));
        // A lexicon chosen from the training side's labels (LearnedLexicon: K terms per class), alone ("lexK"), in place of the
        // cues ("tvr:ar+lexK") and beside them ("tvr:ar+cue+lexK"); "-cv5": its stacking scores from an inner 5-fold, since the
        // choice of terms sees the document the closed-form leave-one-out leaves out.
        foreach (var k in new[] { 5, 10, 20, 40 })
        {
            var lex = new ProbeView("lexicon-" + k, train => LearnedLexicon.Fit(train, k), true);
            variants.Add(("lex" + k, [lex], double.PositiveInfinity));
            variants.Add(("tvr:ar+lex" + k, [allReadings, vector, regions, lex], double.PositiveInfinity));
            variants.Add(("tvr:ar+cue+lex" + k, [allReadings, vector, regions, cues, lex], double.PositiveInfinity));
            variants.Add(("tvr:ar+lex" + k + "-cv5", [allReadings, vector, regions, Honest(lex, 5)], double.PositiveInfinity));
            variants.Add(("tvr:ar+cue+lex" + k + "-cv5", [allReadings, vector, regions, cues, Honest(lex, 5)], double.PositiveInfinity));
        }
        variants.Add(("s", [stats], double.PositiveInfinity));
        variants.Add(("tvrs", [text, vector, regions, stats], double.PositiveInfinity));
        variants.Add(("tr+s", [text, regions, stats], double.PositiveInfinity));
        foreach (var by in new[] { "accuracy", "logloss" })
            variants.Add(("tvr-alpha-" + by, [text with { AlphaBy = by }, vector with { AlphaBy = by }, regions with { AlphaBy = by }], double.PositiveInfinity));
        // Run-length histograms of the binarised page (RunLengthHistograms), at 800x1040 and also at half that size.
        var runLengths = new Dictionary<string, (float[] Full, float[] Half)>(StringComparer.Ordinal);
        if (cli.Value("--only") is { } rlSel && rlSel.Split(',').Any(v => v.StartsWith("rl", StringComparison.Ordinal) || v.Contains("+rl", StringComparison.Ordinal)))
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            int[] levels = [1, 2, 4];
            foreach (var d in docs)
            {
                var (path, format) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, ct);
                var pre = (Dsdc.ImageProcessing.ImagePreprocessor)preprocessor;
                var full = RunLengthHistograms.Compute(pre.PageRgb(path, format, 800, 1040), 800, 1040, levels);
                var half = RunLengthHistograms.Compute(pre.PageRgb(path, format, 400, 520), 400, 520, levels);
                runLengths[d.DocumentId] = (full, half);
            }
            Console.WriteLine($"run-length histograms of {docs.Count} pages in {watch.Elapsed.TotalSeconds:F1} s");
        }
        if (runLengths.Count > 0)
        {
            var rl = new ProbeView("runlengths", _ => p => runLengths[idOf[p]].Full, false);
            var rlz = new ProbeView("runlengths-z", _ => p => runLengths[idOf[p]].Full, true);
            var rl2 = new ProbeView("runlengths-2", _ => p => [.. runLengths[idOf[p]].Full, .. runLengths[idOf[p]].Half], false);
            variants.Add(("rl", [rl], double.PositiveInfinity));
            variants.Add(("rlz", [rlz], double.PositiveInfinity));
            variants.Add(("rl2", [rl2], double.PositiveInfinity));
            variants.Add(("tvr+rl", [text, vector, regions, rl], double.PositiveInfinity));
            variants.Add(("tvr+rlz", [text, vector, regions, rlz], double.PositiveInfinity));
            variants.Add(("tvr+rl2", [text, vector, regions, rl2], double.PositiveInfinity));
            variants.Add(("tv+rl", [text, vector, rl], double.PositiveInfinity));
            variants.Add(("tr+rl", [text, regions, rl], double.PositiveInfinity));
        }
        if (other.Count > 0)
        {
            var otherFirst = new ProbeView("other-text", _ => p => other[idOf[p]].First, true);
            var otherChunked = new ProbeView("other-text-chunked", _ => p => other[idOf[p]].Chunked!, true);
            var imageAndOther = new ProbeView("image+other", _ => p => [.. p.Vector[..p.ImageDimensions], .. other[idOf[p]].First], true);
            var imageAndOtherChunked = new ProbeView("image+other-chunked", _ => p => [.. p.Vector[..p.ImageDimensions], .. other[idOf[p]].Chunked!], true);
            variants.Add(("x", [otherFirst], double.PositiveInfinity));
            variants.Add(("xc", [otherChunked], double.PositiveInfinity));
            variants.Add(("tvr+x", [text, vector, regions, otherFirst], double.PositiveInfinity));
            variants.Add(("tvr+xc", [text, vector, regions, otherChunked], double.PositiveInfinity));
            variants.Add(("t(ix)r", [text, imageAndOther, regions], double.PositiveInfinity));
            variants.Add(("t(ixc)r", [text, imageAndOtherChunked, regions], double.PositiveInfinity));
        }
        // Where the words sit (--word-boxes FILE: read once by OCR, then cached): positional terms as a TF-IDF view
        // ("p" + the kinds of WordBoxes.Terms, e.g. "pz", "pzsb"), alone, beside the three views ("tvr+pz") and beside text
        // and regions ("tr+pz"). The OCR runs only when a variant reads it.
        // The resolution word-box files not yet cached are read at (--boxes-dpi N: pages below N dpi scaled up, as Ocr:MinimumDpi).
        var boxesDpi = cli.Int("--boxes-dpi", minimum: 0) ?? 0;
        bool Asked(Func<string, bool> reads) => cli.Value("--only") is not { } only || only.Split(',').Any(reads);
        ProbeView? positionsGsb = null, tiles12x = null;
        if (cli.Value("--word-boxes") is { } boxesFile && Asked(v => v.StartsWith('p') || v.Contains("+p", StringComparison.Ordinal) || v.StartsWith('q') || v.Contains(":q", StringComparison.Ordinal)))
        {
            var boxes = await WordBoxes.LoadOrReadAsync(boxesFile, docs, documents, paths, inspector, decoder, renderer, pool, ct, boxesDpi);
            foreach (var kinds in new[] { "z", "g", "s", "b", "zsb", "gsb" })
            {
                var termCache = docs.ToDictionary(d => d.DocumentId, d => (IReadOnlyList<string>)WordBoxes.Terms(boxes[d.DocumentId], kinds).ToList(), StringComparer.Ordinal);
                var view = new ProbeView("positions-" + kinds, train => WordBoxes.Tfidf(train, p => termCache[idOf[p]]), false);
                variants.Add(("p" + kinds, [view], double.PositiveInfinity));
                variants.Add(("tvr+p" + kinds, [text, vector, regions, view], double.PositiveInfinity));
                variants.Add(("tr+p" + kinds, [text, regions, view], double.PositiveInfinity));
                if (kinds == "gsb") positionsGsb = view;
            }
            // The text view read from the words Tesseract is at least C confident of ("q50", "tvr:q50").
            foreach (var minimum in new[] { 0, 30, 50, 70, 85 })
            {
                var confident = docs.ToDictionary(d => d.DocumentId, d => WordBoxes.ConfidentText(boxes[d.DocumentId], minimum), StringComparer.Ordinal);
                var view = TextView("text-q" + minimum, p => confident[idOf[p]]);
                variants.Add(("q" + minimum, [view], double.PositiveInfinity));
                variants.Add(("tvr:q" + minimum, [view, vector, regions], double.PositiveInfinity));
            }
        }
        // Other OCR readings of the same pages (--more-boxes F1,F2: word boxes read with other Tesseract settings, e.g.
        // another page segmentation mode): "o1" alone, "tvr:o1" in place of the text view, "tvr+o1" beside it, "tvr+q0+o1"
        // beside the word-box reading, "tvr:cat" every reading's text joined as one text view.
        if (cli.Value("--more-boxes") is { } moreFiles && cli.Value("--word-boxes") is { } firstFile)
        {
            var readings = new List<Dictionary<string, string>>();
            foreach (var file in new[] { firstFile }.Concat(moreFiles.Split(',')))
            {
                var read = await WordBoxes.LoadOrReadAsync(file, docs, documents, paths, inspector, decoder, renderer, pool, ct, boxesDpi);
                readings.Add(docs.ToDictionary(d => d.DocumentId, d => WordBoxes.ConfidentText(read[d.DocumentId], 0), StringComparer.Ordinal));
            }
            var q0 = TextView("reading-0", p => readings[0][idOf[p]]);
            for (var i = 1; i < readings.Count; i++)
            {
                var reading = readings[i];
                var view = TextView("reading-" + i, p => reading[idOf[p]]);
                variants.Add(("o" + i, [view], double.PositiveInfinity));
                variants.Add(("tvr:o" + i, [view, vector, regions], double.PositiveInfinity));
                variants.Add(("tvr+o" + i, [text, vector, regions, view], double.PositiveInfinity));
                variants.Add(("tvr:q0+o" + i, [q0, view, vector, regions], double.PositiveInfinity));
                variants.Add(("tvr:q0o" + i, [TextView("reading-0+" + i, p => readings[0][idOf[p]] + "\n" + reading[idOf[p]]), vector, regions], double.PositiveInfinity));
            }
            var stored = TextView("stored+readings", p => string.Join('\n', readings.Skip(1).Select(r => r[idOf[p]]).Prepend(p.RawText)));
            variants.Add(("tcat", [stored], double.PositiveInfinity));
            variants.Add(("tvr:tcat", [stored, vector, regions], double.PositiveInfinity));
            // Production's readings view (the stored text and its stored readings) with every further reading joined ("more"),
            // or one of them ("more+o1"), alone and in place of the readings view.
            var all = TextView("all+more", p => string.Join('\n', readings.Skip(1).Select(r => r[idOf[p]]).Prepend(p.AllReadings)));
            variants.Add(("more", [all], double.PositiveInfinity));
            variants.Add(("tvr:more", [all, vector, regions], double.PositiveInfinity));
            for (var i = 1; i < readings.Count; i++)
            {
                var reading = readings[i];
                var plusOne = TextView("all+" + i, p => p.AllReadings + "\n" + reading[idOf[p]]);
                variants.Add(("more+o" + i, [plusOne], double.PositiveInfinity));
                variants.Add(("tvr:more+o" + i, [plusOne, vector, regions], double.PositiveInfinity));
            }
            var joined = TextView("readings", p => string.Join('\n', readings.Select(r => r[idOf[p]])));
            variants.Add(("cat", [joined], double.PositiveInfinity));
            variants.Add(("tvr:cat", [joined, vector, regions], double.PositiveInfinity));
        }
        // Tiles of the page near the scan's resolution (--tiles FILE: computed once, then cached; PageTiles): the 3x4 grid's
        // tiles pooled ("T12m" mean, "T12x" mean and max, "T12c" every tile in order), the 2x3 grid's ("T6m", "T6x", "T6c"),
        // alone, beside the three views ("tvr+T12x"), beside text and vector ("tv+T12x") and beside the regions ("r+T12x").
        if (cli.Value("--tiles") is { } tilesFile && Asked(v => v.StartsWith('T') || v.Contains("+T", StringComparison.Ordinal)))
        {
            var tiles = await PageTiles.LoadOrComputeAsync(tilesFile, docs, documents, paths, inspector, preprocessor, sessions, ct);
            for (var g = 0; g < PageTiles.Grids.Length; g++)
            {
                var grid = g;
                var n = PageTiles.Grids[g].Columns * PageTiles.Grids[g].Rows;
                foreach (var (suffix, featurize) in new (string, Func<float[][], float[]>)[]
                    { ("m", t => PageTiles.Pool(t, false)), ("x", t => PageTiles.Pool(t, true)), ("c", t => t.SelectMany(v => v).ToArray()) })
                {
                    var rows = docs.ToDictionary(d => d.DocumentId, d => featurize(tiles[d.DocumentId][grid]), StringComparer.Ordinal);
                    var name = $"T{n}{suffix}";
                    var view = new ProbeView("tiles-" + name, _ => p => rows[idOf[p]], true);
                    variants.Add((name, [view], double.PositiveInfinity));
                    variants.Add(("tvr+" + name, [text, vector, regions, view], double.PositiveInfinity));
                    variants.Add(("tv+" + name, [text, vector, view], double.PositiveInfinity));
                    variants.Add(("r+" + name, [regions, view], double.PositiveInfinity));
                    if (name == "T12x") tiles12x = view;
                }
            }
        }
        // Another OCR engine's reading of the pages (--other-reading FILE: a JSON map of document id to text, e.g. PaddleOCR's
        // PP-OCRv4 lines): alone ("or"), joined to production's readings view (alone "aro", fused "tvr:aro+cue"), its cues
        // counted in it too ("tvr:aro+cueo"), as a view of its own beside production ("tvr:ar+cue+or") or beside the readings
        // with its cues counted ("tvr:ar+or+cueo"), in place of the readings ("tvr:or+cue").
        if (cli.Value("--other-reading") is { } otherFile)
        {
            var otherText = ProbeCache.Covering(System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(otherFile))!, docs, otherFile);
            var alone = TextView("other-reading", p => otherText[idOf[p]]);
            var joined = TextView("readings+other", p => p.AllReadings + "\f" + otherText[idOf[p]]);
            var otherRows = new System.Runtime.CompilerServices.ConditionalWeakTable<PageInputs, float[]>();
            var cuesO = new ProbeView("cues-other", _ => p => otherRows.GetValue(p, q => production.Transform(q with { Readings = (q.Readings ?? "") + "\f" + otherText[idOf[q]] })), true);
            variants.Add(("or", [alone], double.PositiveInfinity));
            variants.Add(("aro", [joined], double.PositiveInfinity));
            variants.Add(("tvr:aro+cue", [joined, vector, regions, cues], double.PositiveInfinity));
            variants.Add(("tvr:aro+cueo", [joined, vector, regions, cuesO], double.PositiveInfinity));
            variants.Add(("tvr:ar+cue+or", [allReadings, vector, regions, cues, alone], double.PositiveInfinity));
            variants.Add(("tvr:or+cue", [alone, vector, regions, cues], double.PositiveInfinity));
            variants.Add(("tvr:ar+or+cueo", [allReadings, alone, vector, regions, cuesO], double.PositiveInfinity));
        }
        // The region features of the page cut to its content (--cropped-regions FILE: the cache of normprobe --crop, the box
        // stretched and at the base aspect): in place of production's regions ("tvr:ar+cue:rc", ":rca") or beside them ("+rc", "+rca").
        if (cli.Value("--cropped-regions") is { } croppedFile)
        {
            var cropped = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, float[][]>>(File.ReadAllText(croppedFile))!;
            foreach (var (suffix, index) in new[] { ("rc", 0), ("rca", 1) })
            {
                var view = new ProbeView("regions-" + suffix, _ => p => cropped[idOf[p]][index], true);
                variants.Add(("tvr:ar+cue:" + suffix, [allReadings, vector, view, cues], double.PositiveInfinity));
                variants.Add(("tvr:ar+cue+" + suffix, [allReadings, vector, regions, cues, view], double.PositiveInfinity));
            }
        }
        // The file's own facts as a view ("m": format, pages, pixel size and shape, bytes per pixel; MetadataFeatures), alone
        // and beside the three views: collections differ in how their documents were produced as much as in how they look.
        if (Asked(v => v == "m" || v.EndsWith("+m", StringComparison.Ordinal)))
        {
            var meta = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (var d in docs)
            {
                var (path, _) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, ct);
                meta[d.DocumentId] = MetadataFeatures(inspector.Inspect(path), new FileInfo(path).Length);
            }
            var view = new ProbeView("metadata", _ => p => meta[idOf[p]], true);
            variants.Add(("m", [view], double.PositiveInfinity));
            variants.Add(("tvr+m", [text, vector, regions, view], double.PositiveInfinity));
            variants.Add(("tv+m", [text, vector, view], double.PositiveInfinity));
        }
        // Every view at once, stacked: the three, the positional terms and the tiles ("tvr+pgsb+T12x"), and the TF-IDF's
        // words and characters as views of their own too ("twcvr+pgsb+T12x"); both files needed.
        if (positionsGsb is not null && tiles12x is not null)
        {
            variants.Add(("tvr+pgsb+T12x", [text, vector, regions, positionsGsb, tiles12x], double.PositiveInfinity));
            variants.Add(("twcvr+pgsb+T12x", [text, words, chars, vector, regions, positionsGsb, tiles12x], double.PositiveInfinity));
        }
        // A subset of the regions: "tvr@0-1-5" keeps regions 0, 1 and 5 (PageRegions.All's order), "r@0-1-5" alone.
        var subsets = (cli.Value("--only") ?? "").Split(',').Where(n => n.Contains('@')).ToList();
        if (subsets.Count > 0) RegionSubset.RequireEveryRegion(docs);
        foreach (var name in subsets)
        {
            var keep = name[(name.IndexOf('@') + 1)..].Split('-').Select(int.Parse).ToArray();
            var sub = new ProbeView("regions" + name[name.IndexOf('@')..], _ => p => keep.SelectMany(k => p.Regions![(k * regionSize)..((k + 1) * regionSize)]).ToArray(), true);
            variants.Add((name, name.StartsWith("tvr@", StringComparison.Ordinal) ? [text, vector, sub] : [sub], double.PositiveInfinity));
        }
        // Another loss for a view's linear classifier (LinearLoss): multinomial logistic regression ("-lr") or a one-vs-rest
        // squared-hinge SVM ("-svm"), its penalty and its stacking scores from an inner 5-fold; alone, in place of the three
        // ridges, and beside them.
        ProbeView Lossy(ProbeView v, LinearLoss.Loss loss) => v with
        {
            Name = v.Name + (loss == LinearLoss.Loss.Logistic ? "-lr" : "-svm"),
            Custom = (train, labels) =>
            {
                var f = v.Featurizer(train);
                var (oof, model) = LinearLoss.FitChosen(train.Select(d => f(d.Inputs)).ToList(), labels, v.Standardize, loss);
                return (oof, p => model.Scores(f(p)));
            },
        };
        foreach (var (suffix, loss) in new[] { ("lr", LinearLoss.Loss.Logistic), ("svm", LinearLoss.Loss.SquaredHinge) })
        {
            var (tl, vl, rl) = (Lossy(text, loss), Lossy(vector, loss), Lossy(regions, loss));
            variants.Add(("t-" + suffix, [tl], double.PositiveInfinity));
            variants.Add(("v-" + suffix, [vl], double.PositiveInfinity));
            variants.Add(("r-" + suffix, [rl], double.PositiveInfinity));
            variants.Add(("tvr-" + suffix, [tl, vl, rl], double.PositiveInfinity));
            variants.Add(("tvr+t" + suffix, [text, vector, regions, tl], double.PositiveInfinity));
            variants.Add(("tvr+tvr" + suffix, [text, vector, regions, tl, vl, rl], double.PositiveInfinity));
        }
        // Naive Bayes on the readings' TF-IDF (NaiveBayesView): multinomial ("nb") or complement ("cnb"), alone, in place of
        // the readings' ridge and beside it.
        ProbeView Bayes(ProbeView v, bool complement) => v with
        {
            Name = v.Name + (complement ? "-cnb" : "-nb"),
            Custom = (train, labels) =>
            {
                var f = v.Featurizer(train);
                var (loo, score, alpha) = NaiveBayesView.Fit(train.Select(d => f(d.Inputs)).ToList(), labels, complement);
                if (cli.Flag("--verbose")) Console.WriteLine($"  {(complement ? "cnb" : "nb")} alpha {alpha}");
                return (loo, p => score(f(p)));
            },
        };
        foreach (var (suffix, complement) in new[] { ("nb", false), ("cnb", true) })
        {
            var nb = Bayes(allReadings, complement);
            variants.Add((suffix, [nb], double.PositiveInfinity));
            variants.Add(("tvr:" + suffix, [nb, vector, regions], double.PositiveInfinity));
            variants.Add(("tvr:ar+" + suffix, [allReadings, vector, regions, nb], double.PositiveInfinity));
        }
        foreach (var bp in new[] { "1", "0.1", "0.01", "0" })
            variants.Add(("tvr+bias:" + bp, [text, vector, regions], double.PositiveInfinity));
        if (cli.Value("--only") is { } only)
        {
            var asked = only.Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (asked.Except(variants.Select(v => v.Name)).ToList() is [_, ..] unknown)
            {
                Console.Error.WriteLine($"stackprobe: no variant {string.Join(", ", unknown)} (the x variants need --text-model DIR, p and q --word-boxes FILE, T --tiles FILE).");
                return 2;
            }
            variants = variants.Where(v => asked.Contains(v.Name)).ToList();
        }

        IReadOnlyList<double>? firstFolds = null;
        string? firstName = null;
        if (cli.Value("--errors") is { } errorsPath) File.WriteAllText(errorsPath, "");
        foreach (var (name, views, penalty) in variants)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            double? biasPenalty = name.StartsWith("tvr+bias:", StringComparison.Ordinal) ? double.Parse(name["tvr+bias:".Length..], CultureInfo.InvariantCulture) : null;
            var cleanAt = name.IndexOf("-clean", StringComparison.Ordinal);
            double? cleanBelow = cleanAt >= 0 ? double.Parse(name[(cleanAt + "-clean".Length)..], CultureInfo.InvariantCulture) : null;
            var left = new List<int>();
            var mixAt = name.IndexOf("-mix", StringComparison.Ordinal);
            double[]? mixGrid = mixAt < 0 ? null : name.Length == mixAt + 4 ? [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1]
                : [double.Parse(name[(mixAt + 4)..], CultureInfo.InvariantCulture)];
            CvRecipe recipe = name.EndsWith("-ovo", StringComparison.Ordinal)
                ? (train, test, token) => PairRefined(views, train, test)
                : (train, test, token) => Fit(views, penalty, train, test, biasPenalty, cleanBelow, left, mixGrid);
            var outcome = RepeatedCrossValidation.Run(docs, o.CvFolds, o.CvRepeats, o.Seed, recipe, o.ReviewTargetAccuracy, ct);
            var e = outcome.Estimate;
            string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
            Console.WriteLine($"{name}: accuracy {P(e.Accuracy)} (sd {P(e.AccuracySd)}), macro-F1 {e.MacroF1:F3}, log-loss {e.LogLoss:F3}, ECE {e.Ece:F3}, " +
                $"at 50/70/90% {P(e.AccuracyAt(0.5))}/{P(e.AccuracyAt(0.7))}/{P(e.AccuracyAt(0.9))}; {watch.Elapsed.TotalSeconds:F0} s");
            if (alphaLog.Count > 0)
            {
                foreach (var g in alphaLog.GroupBy(a => a).OrderByDescending(g => g.Count()).Take(8)) Console.WriteLine($"  alphas {g.Key}: {g.Count()}");
                alphaLog.Clear();
            }
            if (mixLog.Count > 0)
            {
                Console.WriteLine($"  linear pool's share per fit: {string.Join(", ", mixLog.GroupBy(x => x).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}"))}");
                mixLog.Clear();
            }
            if (left.Count > 0) Console.WriteLine($"  left out per fit: mean {left.Average():F1}, min {left.Min()}, max {left.Max()}");
            // Paired against the first variant run, on the same folds (the corrected resampled t the promotion rule uses).
            if (firstFolds is null) (firstFolds, firstName) = (outcome.Estimate.FoldAccuracies, name);
            else
            {
                var (difference, t, _) = RepeatedCrossValidation.Compare(outcome.Estimate.FoldAccuracies, firstFolds, o.CvFolds, 0);
                Console.WriteLine($"  vs {firstName}: paired difference {difference * 100:+0.0;-0.0} points, corrected t {t:F2}");
            }
            if (cli.Value("--errors") is { } errorsFile)
                File.AppendAllLines(errorsFile, outcome.Predictions.Select((p, i) => (p, d: docs[i % docs.Count]))
                    .Where(x => x.p.Predicted != x.p.Truth)
                    .Select(x => $"{name}\t{x.d.DocumentId}\t{Shared.DocumentClasses.Names[x.p.Truth]}\t{Shared.DocumentClasses.Names[x.p.Predicted]}\t{x.p.Confidence:F2}\t{x.d.Inputs.RawText.Replace('\n', ' ').Replace('\t', ' ')[..Math.Min(400, x.d.Inputs.RawText.Length)]}"));
            if (cli.Flag("--per-class"))
                for (var c = 0; c < Shared.DocumentClasses.Count; c++)
                {
                    var truth = outcome.Predictions.Count(p => p.Truth == c);
                    var said = outcome.Predictions.Count(p => p.Predicted == c);
                    var right = outcome.Predictions.Count(p => p.Truth == c && p.Predicted == c);
                    var confused = outcome.Predictions.Where(p => p.Truth == c && p.Predicted != c).GroupBy(p => p.Predicted)
                        .OrderByDescending(g => g.Count()).Take(3).Select(g => $"{Shared.DocumentClasses.Names[g.Key]} {g.Count()}");
                    Console.WriteLine($"  {Shared.DocumentClasses.Names[c],-24} n={truth / o.CvRepeats,3} recall {(double)right / Math.Max(truth, 1),6:P0} precision {(double)right / Math.Max(said, 1),6:P0}  -> {string.Join(", ", confused)}");
                }
        }
        return 0;
    }

    private static readonly List<double> mixLog = [];

    /// <summary>The fused model's answer, its two first classes decided again by a fused model of those two classes alone.</summary>
    private static float[][] PairRefined(List<ProbeView> views, IReadOnlyList<LabelledPage> train, IReadOnlyList<LabelledPage> test)
    {
        var first = Fit(views, double.PositiveInfinity, train, test);
        // One model per pair and training side, scoring the whole test side once.
        var pairs = new Dictionary<(int, int), float[][]>();
        var result = new float[test.Count][];
        for (var i = 0; i < test.Count; i++)
        {
            var p = first[i];
            var order = Enumerable.Range(0, p.Length).OrderByDescending(c => p[c]).ToArray();
            var (a, b) = (Math.Min(order[0], order[1]), Math.Max(order[0], order[1]));
            var side = train.Where(d => d.Label == a || d.Label == b).ToList();
            if (side.Count(d => d.Label == a) < 2 || side.Count(d => d.Label == b) < 2 || p[order[1]] <= 0)
            {
                result[i] = p;
                continue;
            }
            if (!pairs.TryGetValue((a, b), out var scored)) pairs[(a, b)] = scored = Fit(views, double.PositiveInfinity, side, test);
            var q = scored[i];
            var mass = p[a] + p[b];
            var qa = q[a] / Math.Max(q[a] + q[b], 1e-12f);
            result[i] = (float[])p.Clone();
            result[i][a] = mass * qa;
            result[i][b] = mass * (1 - qa);
        }
        return result;
    }

    private static float[][] Fit(List<ProbeView> views, double classPenalty, IReadOnlyList<LabelledPage> train, IReadOnlyList<LabelledPage> test,
        double? biasPenalty = null, double? cleanBelow = null, List<int>? left = null, double[]? mixGrid = null)
    {
        var labels = train.Select(t => t.Label).ToList();
        var known = new bool[Shared.DocumentClasses.Count];
        foreach (var l in labels) known[l] = true;
        // Each view fitted: its leave-one-out scores and the scores of a page it did not train on.
        var fitted = views.Select<ProbeView, (double[][] Loo, Func<PageInputs, double[]> Score)>(v =>
        {
            if (v.Custom is { } custom) return custom(train, labels);
            var f = v.Featurizer(train);
            var rows = train.Select(d => f(d.Inputs)).ToList();
            if (v.Rbf)
            {
                var k = KernelRidge.Fit(rows, labels);
                return (k.LooScores, (Func<PageInputs, double[]>)(p => k.Scores(f(p))));
            }
            var r = v.AlphaBy is null ? RidgeView.Fit(rows, labels, v.Standardize) : FitBy(v.AlphaBy, rows, labels, v.Standardize, known);
            return (r.LooScores, (Func<PageInputs, double[]>)(p => r.Scores(f(p))));
        }).ToList();
        var loo = fitted.Select(f => f.Loo).ToList();
        var w = double.IsPositiveInfinity(classPenalty)
            ? Broadcast(Stacking.FitWeights(loo, labels, known), known.Length)
            : PerClassWeights(loo, labels, known, classPenalty);
        var bias = new double[known.Length];
        double[] Logits(Func<int, int, double> score)
        {
            var logits = new double[known.Length];
            for (var v = 0; v < fitted.Count; v++)
                for (var c = 0; c < logits.Length; c++) logits[c] += w[v][c] * score(v, c);
            for (var c = 0; c < logits.Length; c++) logits[c] += bias[c];
            return logits;
        }
        if (biasPenalty is { } bp)
            bias = ClassBiases(Enumerable.Range(0, train.Count).Select(i => Logits((v, c) => loo[v][i][c])).ToList(), labels, known, bp);
        if (cleanBelow is { } threshold)
        {
            var own = Enumerable.Range(0, train.Count).Select(i => Stacking.Softmax(Logits((v, c) => loo[v][i][c]), known)[labels[i]]).ToList();
            var drop = new HashSet<int>();
            foreach (var cls in Enumerable.Range(0, train.Count).GroupBy(i => labels[i]))
            {
                var budget = Math.Min(cls.Count() / 3, cls.Count() - 2);
                foreach (var i in cls.Where(i => own[i] < threshold).OrderBy(i => own[i]).Take(Math.Max(budget, 0))) drop.Add(i);
            }
            lock (left!) left.Add(drop.Count);
            if (drop.Count > 0)
                return Fit(views, classPenalty, train.Where((_, i) => !drop.Contains(i)).ToList(), test, biasPenalty);
        }
        if (mixGrid is not null)
        {
            // Each view's own temperature, then the share of the linear pool with the least leave-one-out log-loss.
            var temperatures = loo.Select(l => Stacking.FitWeights([l], labels, known)[0]).ToArray();
            float[] Mixed(IReadOnlyList<double[]> scores, double share)
            {
                var stacked = Stacking.Softmax(Logits((v, c) => scores[v][c]), known);
                var pooled = new double[known.Length];
                for (var v = 0; v < scores.Count; v++)
                {
                    var pv = Stacking.Softmax(scores[v].Select(x => x * temperatures[v]).ToArray(), known);
                    for (var c = 0; c < pooled.Length; c++) pooled[c] += pv[c] / scores.Count;
                }
                return stacked.Select((x, c) => (float)((1 - share) * x + share * pooled[c])).ToArray();
            }
            IReadOnlyList<double[]> LooOf(int i) => loo.Select(l => l[i]).ToList();
            var best = mixGrid.MinBy(share => Enumerable.Range(0, train.Count).Sum(i => -Math.Log(Math.Max(1e-12, Mixed(LooOf(i), share)[labels[i]]))));
            lock (mixLog) mixLog.Add(best);
            var mixCalibration = TopLabelCalibration.Fit(Enumerable.Range(0, train.Count).Select(i =>
            {
                var p = Mixed(LooOf(i), best);
                return (p, ClassificationMetrics.ArgMax(p) == labels[i]);
            }).ToList());
            return test.Select(t =>
            {
                var p = Mixed(fitted.Select(f => f.Score(t.Inputs)).ToList(), best);
                return mixCalibration?.Apply(p) ?? p;
            }).ToArray();
        }
        var calibration = TopLabelCalibration.Fit(Enumerable.Range(0, train.Count).Select(i =>
        {
            var p = Stacking.Softmax(Logits((v, c) => loo[v][i][c]), known);
            return (p, ClassificationMetrics.ArgMax(p) == labels[i]);
        }).ToList());
        return test.Select(t =>
        {
            var s = fitted.Select(f => f.Score(t.Inputs)).ToList();
            var p = Stacking.Softmax(Logits((v, c) => s[v][c]), known);
            return calibration?.Apply(p) ?? p;
        }).ToArray();
    }

    /// <summary>What the file says of how it was made: its format (one-hot), log pages, log width and height, the
    /// shape, log bytes, and bytes per pixel of a page (how much the scan's compression had to keep).</summary>
    internal static float[] MetadataFeatures(Dsdc.ImageProcessing.DocumentInfo info, long bytes)
    {
        var formats = Enum.GetValues<Dsdc.ImageProcessing.DocumentFormat>();
        var f = new List<float>();
        foreach (var format in formats) f.Add(info.Format == format ? 1 : 0);
        var w = Math.Max(info.Width, 1);
        var h = Math.Max(info.Height, 1);
        f.Add((float)Math.Log(Math.Max(info.PageCount, 1)));
        f.Add((float)Math.Log(w));
        f.Add((float)Math.Log(h));
        f.Add((float)w / h);
        f.Add((float)Math.Log(Math.Max(bytes, 1)));
        f.Add((float)Math.Log((double)Math.Max(bytes, 1) / Math.Max(info.PageCount, 1) / ((double)w * h)));
        return [.. f];
    }

    private sealed record TextSpec(int MaxTerms = RawTextTfidf.MaxTerms, int MinDf = 2, int CharMin = 3, int CharMax = 5, int WordMax = 2,
        bool Sublinear = true, bool Binary = false, bool CrossWordChars = false, bool Idf = true, bool Words = true, bool Chars = true);

    private static readonly (string Name, TextSpec Spec)[] TextSpecs =
    [
        ("prod", new TextSpec()),
        ("df1", new TextSpec(MinDf: 1)),
        ("5k", new TextSpec(MaxTerms: 5_000)),
        ("50k", new TextSpec(MaxTerms: 50_000)),
        ("all", new TextSpec(MaxTerms: int.MaxValue)),
        ("c24", new TextSpec(CharMin: 2, CharMax: 4)),
        ("c36", new TextSpec(CharMin: 3, CharMax: 6)),
        ("c46", new TextSpec(CharMin: 4, CharMax: 6)),
        ("w1", new TextSpec(WordMax: 1)),
        ("w3", new TextSpec(WordMax: 3)),
        ("binary", new TextSpec(Binary: true)),
        ("rawtf", new TextSpec(Sublinear: false)),
        ("noidf", new TextSpec(Idf: false)),
        ("xchar", new TextSpec(CrossWordChars: true)),
        ("xchar-all", new TextSpec(CrossWordChars: true, MaxTerms: int.MaxValue)),
        ("words", new TextSpec(Chars: false)),
        ("words-all", new TextSpec(Chars: false, MaxTerms: int.MaxValue, MinDf: 1)),
    ];

    /// <summary>A TF-IDF over the raw text with the given recipe (production's tokenisation: lowercase, digits folded to 0).</summary>
    private static Func<PageInputs, float[]> GeneralTfidf(IReadOnlyList<LabelledPage> train, TextSpec spec, Func<PageInputs, string> textOf)
    {
        var texts = train.Select(d => textOf(d.Inputs)).ToList();
        IEnumerable<string> TermsOf(string text)
        {
            var words = text.ToLowerInvariant().Select(ch => char.IsDigit(ch) ? '0' : char.IsLetterOrDigit(ch) ? ch : ' ').ToArray();
            var w = new string(words).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < w.Length; i++)
            {
                if (spec.Words)
                {
                    if (w[i].Length >= 2) yield return "w:" + w[i];
                    for (var n = 2; n <= spec.WordMax && i - n + 1 >= 0; n++) yield return "b:" + string.Join(' ', w[(i - n + 1)..(i + 1)]);
                }
                if (spec.Chars && !spec.CrossWordChars)
                {
                    var padded = " " + w[i] + " ";
                    for (var n = spec.CharMin; n <= spec.CharMax; n++)
                        for (var s = 0; s + n <= padded.Length; s++) yield return "c:" + padded.Substring(s, n);
                }
            }
            if (spec.Chars && spec.CrossWordChars)
            {
                var joined = " " + string.Join(' ', w) + " ";
                for (var n = spec.CharMin; n <= spec.CharMax; n++)
                    for (var s = 0; s + n <= joined.Length; s++) yield return "c:" + joined.Substring(s, n);
            }
        }
        var vocabulary = RawTextTfidf.FitTerms(texts.Select(TermsOf), spec.MaxTerms, texts.Count < 40 ? 1 : spec.MinDf);
        var terms = vocabulary.Terms;
        var index = terms.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        var idf = spec.Idf ? vocabulary.Idf : terms.Select(_ => 1f).ToArray();
        return p =>
        {
            var v = new float[terms.Count];
            foreach (var g in TermsOf(textOf(p)).GroupBy(t => t, StringComparer.Ordinal))
                if (index.TryGetValue(g.Key, out var i))
                    v[i] = (float)(spec.Binary ? 1 : spec.Sublinear ? 1 + Math.Log(g.Count()) : g.Count()) * idf[i];
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            if (norm > 0) for (var i = 0; i < v.Length; i++) v[i] /= norm;
            return v;
        };
    }

    /// <summary>
    /// The shape of the OCR text, which the TF-IDF's bag of terms does not see: how much text, how its lines are built
    /// (length, blank lines, lines of figures, label lines ending in a colon, bullets, questions) and which characters
    /// it uses (digits, capitals, currency, percent, punctuation, OCR debris).
    /// </summary>
    internal static float[] TextStatistics(string text)
    {
        var lines = text.Split('\n');
        var full = lines.Where(l => l.Any(char.IsLetterOrDigit)).Select(l => l.Trim()).ToList();
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var chars = Math.Max(1, text.Count(c => !char.IsWhiteSpace(c)));
        double Share(Func<char, bool> f) => (double)text.Count(f) / chars;
        double LineShare(Func<string, bool> f) => full.Count == 0 ? 0 : (double)full.Count(f) / full.Count;
        double WordShare(Func<string, bool> f) => words.Length == 0 ? 0 : (double)words.Count(f) / words.Length;
        var lengths = full.Select(l => (double)l.Length).ToList();
        var meanLength = lengths.Count == 0 ? 0 : lengths.Average();
        var sdLength = lengths.Count == 0 ? 0 : Math.Sqrt(lengths.Average(x => (x - meanLength) * (x - meanLength)));
        var firstLong = full.FindIndex(l => l.Length >= 60);
        return new double[]
        {
            Math.Log(1 + chars), Math.Log(1 + words.Length), Math.Log(1 + full.Count),
            lines.Length == 0 ? 0 : (double)lines.Count(l => !l.Any(char.IsLetterOrDigit)) / lines.Length,
            Math.Log(1 + meanLength), sdLength / Math.Max(1, meanLength),
            LineShare(l => l.Length < 20), LineShare(l => l.Length is >= 20 and < 50), LineShare(l => l.Length >= 50),
            LineShare(l => l.Count(char.IsDigit) * 2 > l.Count(char.IsLetterOrDigit)), LineShare(l => l.EndsWith(':')),
            LineShare(l => l.Contains(':')), LineShare(l => l.Contains('?')), LineShare(l => l[0] is '-' or '*' or '•' or '»' or '>' || l.StartsWith("o ", StringComparison.Ordinal) || char.IsDigit(l[0]) && l.Length > 1 && l[1] is '.' or ')'),
            LineShare(l => l.Count(char.IsUpper) * 2 > l.Count(char.IsLetter) && l.Any(char.IsLetter)),
            firstLong < 0 ? 1 : (double)firstLong / Math.Max(1, full.Count),
            Share(char.IsDigit), Share(char.IsUpper), Share(char.IsPunctuation), Share(c => c > 127),
            Share(c => c == '$'), Share(c => c == '%'), Share(c => c == ':'), Share(c => c == '@'), Share(c => c is '.' or ','),
            Share(c => c is '(' or ')'), Share(c => c is '/' or '\\'), Share(c => c is '-' or '_' or '|' or '='), Share(c => c == '?'),
            WordShare(w => w.Length == 1), WordShare(w => w.Length > 12), WordShare(w => w.Any(char.IsDigit)),
            WordShare(w => w.Length > 1 && w.All(char.IsUpper)), words.Length == 0 ? 0 : words.Average(w => w.Length),
        }.Select(x => (float)x).ToArray();
    }

    /// <summary>The ridge with its regularisation chosen by the leave-one-out accuracy or log-loss (after a fitted temperature).</summary>
    private static RidgeView FitBy(string by, IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, bool standardize, bool[] known)
    {
        (double Loss, RidgeView? Ridge) best = (double.PositiveInfinity, null);
        foreach (var a in RidgeView.Alphas)
        {
            var r = RidgeView.Fit(rows, labels, standardize, alphas: [a]);
            double loss;
            if (by == "accuracy")
                loss = -Enumerable.Range(0, labels.Count).Count(i => ClassificationMetrics.ArgMax(Stacking.Softmax(r.LooScores[i], known)) == labels[i]);
            else
            {
                var t = Stacking.FitWeights([r.LooScores], labels, known)[0];
                loss = Enumerable.Range(0, labels.Count).Sum(i => -Math.Log(Math.Max(1e-12, Stacking.Softmax(r.LooScores[i].Select(x => x * t).ToArray(), known)[labels[i]])));
            }
            // Ties (frequent for the accuracy) go to the stronger regularisation: the grid runs from weak to strong.
            if (loss <= best.Loss + 1e-9) best = (loss, r);
        }
        return best.Ridge!;
    }

    /// <summary>
    /// Early fusion: one ridge over [text TF-IDF, standardised vector / sqrt(d), standardised regions / sqrt(d)], each
    /// block times a weight from <paramref name="grid"/> (the text's fixed at 1), the combination chosen by the ridge's
    /// class-balanced leave-one-out squared error.
    /// </summary>
    private static (double[][] Loo, Func<PageInputs, double[]> Score) EarlyFusion(IReadOnlyList<LabelledPage> train, IReadOnlyList<int> labels, double[] grid)
    {
        var tfidf = RawTextTfidf.Fit(train.Select(d => d.Inputs.RawText), minDocumentFrequency: RawTextTfidf.MinDocumentFrequencyFor(train.Count));
        var vs = Standardizer.Fit(train.Select(d => d.Inputs.Vector).ToList());
        var rs = Standardizer.Fit(train.Select(d => d.Inputs.Regions!).ToList());
        var vd = (float)(1 / Math.Sqrt(train[0].Inputs.Vector.Length));
        var rd = (float)(1 / Math.Sqrt(train[0].Inputs.Regions!.Length));
        float[] Row(PageInputs p, double b, double c) =>
            [.. tfidf.Transform(p.RawText), .. vs.Apply(p.Vector).Select(x => (float)(x * vd * b)), .. rs.Apply(p.Regions!).Select(x => (float)(x * rd * c))];
        var counts = new int[Shared.DocumentClasses.Count];
        foreach (var l in labels) counts[l]++;
        var present = counts.Count(x => x > 0);
        var w = labels.Select(l => (double)labels.Count / (present * counts[l])).ToArray();
        (double Error, RidgeView? Ridge, double B, double C) best = (double.PositiveInfinity, null, 1, 1);
        foreach (var b in grid)
            foreach (var c in grid)
            {
                var ridge = RidgeView.Fit(train.Select(d => Row(d.Inputs, b, c)).ToList(), labels, standardize: false);
                double error = 0;
                for (var i = 0; i < labels.Count; i++)
                    for (var k = 0; k < counts.Length; k++)
                    {
                        var r = (k == labels[i] ? 1 : -1) - ridge.LooScores[i][k];
                        error += w[i] * r * r;
                    }
                if (error < best.Error) best = (error, ridge, b, c);
            }
        return (best.Ridge!.LooScores, p => best.Ridge.Scores(Row(p, best.B, best.C)));
    }

    private static double[][] Broadcast(double[] w, int classes) => w.Select(x => Enumerable.Repeat(x, classes).ToArray()).ToArray();

    /// <summary>w_vc = exp(theta_v + delta_vc), penalty on delta (mean log-loss + penalty x mean delta^2), Adam.</summary>
    /// <summary>A bias per class added to the stacked logits, fitted on the leave-one-out logits by penalised log-loss (Adam).</summary>
    private static double[] ClassBiases(IReadOnlyList<double[]> logits, IReadOnlyList<int> labels, bool[] known, double penalty, int steps = 400)
    {
        var classes = known.Length;
        var b = new double[classes];
        var m = new double[classes];
        var s2 = new double[classes];
        const double lr = 0.05, b1 = 0.9, b2 = 0.999;
        var shifted = new double[classes];
        for (var step = 1; step <= steps; step++)
        {
            var grad = new double[classes];
            for (var i = 0; i < logits.Count; i++)
            {
                for (var c = 0; c < classes; c++) shifted[c] = logits[i][c] + b[c];
                var p = Stacking.Softmax(shifted, known);
                for (var c = 0; c < classes; c++)
                    if (known[c]) grad[c] += (p[c] - (c == labels[i] ? 1 : 0)) / logits.Count;
            }
            for (var c = 0; c < classes; c++)
            {
                if (!known[c]) continue;
                grad[c] += 2 * penalty * b[c] / classes;
                m[c] = b1 * m[c] + (1 - b1) * grad[c];
                s2[c] = b2 * s2[c] + (1 - b2) * grad[c] * grad[c];
                b[c] -= lr * (m[c] / (1 - Math.Pow(b1, step))) / (Math.Sqrt(s2[c] / (1 - Math.Pow(b2, step))) + 1e-9);
            }
        }
        return b;
    }

    private static double[][] PerClassWeights(IReadOnlyList<double[][]> scores, IReadOnlyList<int> labels, bool[] known, double penalty, int steps = 600)
    {
        var views = scores.Count;
        var classes = known.Length;
        var n = labels.Count;
        var start = Stacking.FitWeights(scores, labels, known);
        var theta = new double[views * (classes + 1)];
        for (var v = 0; v < views; v++) theta[v * (classes + 1)] = Math.Log(start[v]);
        var m = new double[theta.Length];
        var s2 = new double[theta.Length];
        const double lr = 0.03, b1 = 0.9, b2 = 0.999;
        var logits = new double[classes];
        double W(int v, int c) => Math.Exp(theta[v * (classes + 1)] + theta[v * (classes + 1) + 1 + c]);
        for (var step = 1; step <= steps; step++)
        {
            var grad = new double[theta.Length];
            for (var i = 0; i < n; i++)
            {
                Array.Clear(logits);
                for (var v = 0; v < views; v++)
                    for (var c = 0; c < classes; c++) logits[c] += W(v, c) * scores[v][i][c];
                var p = Stacking.Softmax(logits, known);
                for (var v = 0; v < views; v++)
                    for (var c = 0; c < classes; c++)
                    {
                        if (!known[c]) continue;
                        var g = (p[c] - (c == labels[i] ? 1 : 0)) * scores[v][i][c] * W(v, c) / n;
                        grad[v * (classes + 1)] += g;
                        grad[v * (classes + 1) + 1 + c] += g;
                    }
            }
            for (var v = 0; v < views; v++)
                for (var c = 0; c < classes; c++)
                    grad[v * (classes + 1) + 1 + c] += 2 * penalty * theta[v * (classes + 1) + 1 + c] / (views * classes);
            for (var k = 0; k < theta.Length; k++)
            {
                m[k] = b1 * m[k] + (1 - b1) * grad[k];
                s2[k] = b2 * s2[k] + (1 - b2) * grad[k] * grad[k];
                theta[k] -= lr * (m[k] / (1 - Math.Pow(b1, step))) / (Math.Sqrt(s2[k] / (1 - Math.Pow(b2, step))) + 1e-9);
                theta[k] = Math.Clamp(theta[k], -12, 6);
            }
        }
        return Enumerable.Range(0, views).Select(v => Enumerable.Range(0, classes).Select(c => W(v, c)).ToArray()).ToArray();
    }
}
