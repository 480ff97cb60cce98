using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Dsdc.Shared;

namespace Dsdc.Training;

/// <summary>One word Tesseract read, its box as shares of the page (centre x and y, height), and its line.</summary>
internal sealed record BoxedWord(string Text, float X, float Y, float Height, int Line, float Confidence);

/// <summary>
/// Where the words sit on the page: every labelled page OCR'd again for its words' boxes (Tesseract's TSV), cached in a
/// file, and the positional terms a TF-IDF view can read from them: each word tagged with the band of the page it sits
/// in (top fifth, middle, bottom fifth) or its cell of a 3x3 grid, the first word of each line, and the words set in
/// type much larger than the page's median (titles such as MEMORANDUM or INVOICE). The reading differs from the stored
/// text's in three ways: the first page only, every PDF rendered at 200 dpi and OCR'd (no text layer), and no upscaling
/// of low-resolution scans unless the probe asks for a minimum resolution (<c>--boxes-dpi N</c>, as <c>Ocr:MinimumDpi</c>).
/// </summary>
internal static class WordBoxes
{
    public static async Task<Dictionary<string, List<BoxedWord>>> LoadOrReadAsync(string cache, IReadOnlyList<LabelledPage> docs,
        Dsdc.Ingestion.DocumentStore documents, DsdcPaths paths, IDocumentInspector inspector, ImageDecoder decoder,
        PdfPageRenderer renderer, TesseractEnginePool pool, CancellationToken ct, int minimumDpi = 0)
    {
        if (File.Exists(cache))
            return ProbeCache.Covering(JsonSerializer.Deserialize<Dictionary<string, List<BoxedWord>>>(File.ReadAllText(cache))!, docs, cache);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = new ConcurrentDictionary<string, List<BoxedWord>>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(docs, new ParallelOptions { MaxDegreeOfParallelism = pool.Size, CancellationToken = ct }, async (d, token) =>
        {
            var (path, format) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, token);
            string tsv;
            if (format == DocumentFormat.Pdf)
            {
                const int dpi = 200;
                using var rendered = renderer.Render(path, [1], dpi, PageColor.Grey, token);
                using var page = rendered.Load(1);
                tsv = await pool.RunAsync(e => e.RecogniseTsv(page, dpi), token);
            }
            else
            {
                using var page = decoder.DecodeFirstPage(decoder.ReadFile(path), format);
                var (input, resolution, scaled) = OcrResolution.Prepare(page, minimumDpi, long.MaxValue);
                using (scaled ? input : null)
                    tsv = await pool.RunAsync(e => e.RecogniseTsv(input, resolution), token);
            }
            result[d.DocumentId] = Parse(tsv);
        });
        var words = new Dictionary<string, List<BoxedWord>>(result, StringComparer.Ordinal);
        File.WriteAllText(cache, JsonSerializer.Serialize(words));
        Console.WriteLine($"word boxes of {docs.Count} pages read in {watch.Elapsed.TotalSeconds:F0} s ({words.Values.Sum(w => w.Count)} words)");
        return words;
    }

    /// <summary>The words of Tesseract's TSV (level 5 rows with text), placed on the page of the level-1 row.</summary>
    internal static List<BoxedWord> Parse(string tsv)
    {
        double width = 0, height = 0;
        var words = new List<BoxedWord>();
        var lines = new Dictionary<(int, int, int), int>();
        foreach (var row in tsv.Split('\n'))
        {
            var f = row.Split('\t');
            if (f.Length < 12 || !int.TryParse(f[0], CultureInfo.InvariantCulture, out var level)) continue;
            int I(int k) => int.Parse(f[k], CultureInfo.InvariantCulture);
            if (level == 1)
            {
                width = Math.Max(1, I(8));
                height = Math.Max(1, I(9));
            }
            else if (level == 5 && f[11].Trim() is { Length: > 0 } text && width > 0)
            {
                var key = (I(2), I(3), I(4));
                if (!lines.TryGetValue(key, out var line)) lines[key] = line = lines.Count;
                words.Add(new BoxedWord(text, (float)((I(6) + I(8) / 2.0) / width), (float)((I(7) + I(9) / 2.0) / height), (float)(I(9) / height), line,
                    float.TryParse(f[10], NumberStyles.Float, CultureInfo.InvariantCulture, out var confidence) ? confidence : -1));
            }
        }
        return words;
    }

    /// <summary>The page's text from the words Tesseract is at least this confident of, one line of the page per line.</summary>
    internal static string ConfidentText(IReadOnlyList<BoxedWord> words, float minimum) =>
        string.Join('\n', words.Where(w => w.Confidence >= minimum).GroupBy(w => w.Line).Select(g => string.Join(' ', g.Select(w => w.Text))));

    /// <summary>A word folded as production folds its terms: lowercase letters and digits, digits as 0 (punctuation inside a
    /// word is dropped, where production splits there); empty when nothing is left.</summary>
    private static string Fold(string word) =>
        new(word.ToLowerInvariant().Where(char.IsLetterOrDigit).Select(c => char.IsDigit(c) ? '0' : c).ToArray());

    /// <summary>The positional terms of a page. <paramref name="kinds"/>: z = word and band, g = word and 3x3 cell,
    /// s = first word of a line (and its band), b = word in large type.</summary>
    internal static IEnumerable<string> Terms(IReadOnlyList<BoxedWord> words, string kinds)
    {
        var folded = words.Select(w => Fold(w.Text)).ToList();
        var heights = words.Where((w, i) => folded[i].Length >= 2).Select(w => w.Height).OrderBy(h => h).ToList();
        var median = heights.Count == 0 ? 0 : heights[heights.Count / 2];
        var previousLine = -1;
        for (var i = 0; i < words.Count; i++)
        {
            var w = folded[i];
            if (w.Length < 2) continue;
            // The first word of two characters or more on its line (a bullet or a number before it does not count).
            var first = words[i].Line != previousLine;
            previousLine = words[i].Line;
            var band = words[i].Y < 0.2f ? "t" : words[i].Y > 0.8f ? "b" : "m";
            if (kinds.Contains('z')) yield return $"z{band}:{w}";
            if (kinds.Contains('g')) yield return $"g{(int)Math.Min(2, words[i].Y * 3)}{(int)Math.Min(2, words[i].X * 3)}:{w}";
            if (kinds.Contains('s') && first)
            {
                yield return "s:" + w;
                yield return $"s{band}:{w}";
            }
            if (kinds.Contains('b') && median > 0 && words[i].Height > 1.6 * median) yield return "B:" + w;
        }
    }

    /// <summary>A TF-IDF over the positional terms (sublinear tf, smooth idf, L2), fitted on the training pages.</summary>
    internal static Func<PageInputs, float[]> Tfidf(IReadOnlyList<LabelledPage> train, Func<PageInputs, IReadOnlyList<string>> termsOf)
    {
        var vocabulary = RawTextTfidf.FitTerms(train.Select(d => (IEnumerable<string>)termsOf(d.Inputs)), RawTextTfidf.MaxTerms, RawTextTfidf.MinDocumentFrequencyFor(train.Count));
        return p => vocabulary.TransformTerms(termsOf(p));
    }
}
