using System.Runtime.CompilerServices;
using System.Text;

namespace Dsdc.Training;

/// <summary>
/// A cue lexicon chosen from the labels instead of written by hand (<c>stackprobe</c> variants <c>lexK</c>): the terms of
/// the OCR readings (words with digits folded to 0, a word followed by a colon as a term of its own, adjacent word pairs)
/// that the most documents of a class hold and the fewest of the others (the difference of the two shares), K per class,
/// counted as <see cref="CueLexicon"/> counts its cues: log(1 + matches in every reading), in the first five lines of the main
/// reading that hold a letter, log(1 + matches at the start of a line). The choice is made on the training side only.
/// </summary>
internal static class LearnedLexicon
{
    internal sealed record PageTerms(Dictionary<string, int> Count, HashSet<string> Head, Dictionary<string, int> LineStart);

    private static readonly ConditionalWeakTable<PageInputs, PageTerms> Cache = new();

    public static PageTerms Of(PageInputs page) => Cache.GetValue(page, Compute);

    /// <summary>Chooses K terms per class from the training pages and returns the page's features for them.</summary>
    public static Func<PageInputs, float[]> Fit(IReadOnlyList<LabelledPage> train, int perClass, int classes = 16)
    {
        var n = new int[classes];
        var df = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var d in train)
        {
            n[d.Label]++;
            foreach (var t in Of(d.Inputs).Count.Keys)
            {
                if (!df.TryGetValue(t, out var c)) df[t] = c = new int[classes];
                c[d.Label]++;
            }
        }
        var total = train.Count;
        var chosen = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var k = 0; k < classes; k++)
        {
            if (n[k] == 0) continue;
            var need = Math.Min(2, n[k]);
            var others = total - n[k];
            var best = df.Where(e => e.Value[k] >= need)
                .Select(e => (Term: e.Key, Score: (double)e.Value[k] / n[k] - (others == 0 ? 0 : (double)(e.Value.Sum() - e.Value[k]) / others)))
                .Where(e => e.Score > 0)
                .OrderByDescending(e => e.Score).ThenBy(e => e.Term, StringComparer.Ordinal)
                .Take(perClass);
            foreach (var (term, _) in best)
                if (seen.Add(term)) chosen.Add(term);
        }
        return page =>
        {
            var p = Of(page);
            var f = new float[3 * chosen.Count];
            for (var i = 0; i < chosen.Count; i++)
            {
                f[3 * i] = (float)Math.Log(1 + p.Count.GetValueOrDefault(chosen[i]));
                f[3 * i + 1] = p.Head.Contains(chosen[i]) ? 1 : 0;
                f[3 * i + 2] = (float)Math.Log(1 + p.LineStart.GetValueOrDefault(chosen[i]));
            }
            return f;
        };
    }

    private static PageTerms Compute(PageInputs page)
    {
        var count = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineStart = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in (page.AllReadings ?? "").Replace('\f', '\n').Split('\n'))
        {
            var terms = Terms(line, out var first);
            foreach (var t in terms) count[t] = count.GetValueOrDefault(t) + 1;
            foreach (var t in first) lineStart[t] = lineStart.GetValueOrDefault(t) + 1;
        }
        var head = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in (page.RawText ?? "").Split('\n').Where(l => l.Any(char.IsLetter)).Take(CueLexicon.HeadLines))
            head.UnionWith(Terms(line, out _));
        return new PageTerms(count, head, lineStart);
    }

    /// <summary>The terms of one line; <paramref name="first"/> gets those of its first word (the word, "word:", the first pair).</summary>
    private static List<string> Terms(string line, out List<string> first)
    {
        var words = new List<(string Word, bool Colon)>();
        var sb = new StringBuilder();
        for (var i = 0; i <= line.Length; i++)
        {
            var ch = i < line.Length ? line[i] : ' ';
            if (char.IsLetterOrDigit(ch))
            {
                sb.Append(char.IsDigit(ch) ? '0' : char.ToLowerInvariant(ch));
                continue;
            }
            if (sb.Length > 0)
            {
                var w = sb.ToString();
                sb.Clear();
                if (w.Any(char.IsLetter) && w.Length >= 2) words.Add((w, ch == ':'));
            }
        }
        var terms = new List<string>();
        first = [];
        for (var j = 0; j < words.Count; j++)
        {
            var (w, colon) = words[j];
            terms.Add(w);
            if (colon) terms.Add(w + ":");
            if (j > 0) terms.Add(words[j - 1].Word + " " + w);
            if (j == 0)
            {
                first.Add(w);
                if (colon) first.Add(w + ":");
            }
            if (j == 1) first.Add(words[0].Word + " " + w);
        }
        return terms;
    }
}
