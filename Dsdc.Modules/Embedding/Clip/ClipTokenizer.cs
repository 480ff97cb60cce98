using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dsdc.Embedding;

/// <summary>
/// CLIP's byte-level BPE: cleaned, lowercased text split by CLIP's pattern, each word's bytes mapped to printable
/// characters, its last symbol marked with <c>&lt;/w&gt;</c>, merges applied by rank; then
/// <c>&lt;|startoftext|&gt;</c> ... <c>&lt;|endoftext|&gt;</c>, cut and padded to 77 ids.
/// </summary>
internal sealed partial class ClipTokenizer
{
    public const int ContextLength = 77;
    private const string EndOfWord = "</w>";
    private const string Start = "<|startoftext|>";
    private const string End = "<|endoftext|>";

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private static readonly string[] ByteSymbols = BuildByteSymbols();

    public ClipTokenizer(Dictionary<string, int> vocab, IEnumerable<string> merges)
    {
        _vocab = vocab;
        _ranks = [];
        foreach (var line in merges)
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Trim().Length == 0) continue;
            var parts = line.Trim().Split(' ');
            if (parts.Length == 2) _ranks.TryAdd((parts[0], parts[1]), _ranks.Count);
        }
        StartId = _vocab[Start];
        EndId = _vocab[End];
    }

    public static ClipTokenizer Load(string vocabJson, string mergesTxt) =>
        new(JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJson))
                ?? throw new InvalidDataException($"{vocabJson} is not a JSON object of token ids"),
            File.ReadLines(mergesTxt));

    public int StartId { get; }
    public int EndId { get; }

    /// <summary>Start id, the text's ids (at most 75), end id: the sequence before padding.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        // Lazy: a long page stops being tokenized once the context is full.
        var body = Pattern().Matches(Clean(text)).SelectMany(m => Bpe(m.Value)).Take(ContextLength - 2);
        return [StartId, .. body, EndId];
    }

    internal static string Clean(string text)
    {
        text = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return Whitespace().Replace(text, " ").Trim().ToLowerInvariant();
    }

    /// <summary>
    /// The most words whose pieces are kept: OCR text brings an endless supply of one-off strings, so past this the
    /// tokenizer computes new words without keeping them (about 10 MB at the bound).
    /// </summary>
    internal const int MaxCachedWords = 50_000;

    internal int CachedWords => _cache.Count;

    // Counted apart: ConcurrentDictionary.Count takes every bucket's lock, on each miss of parallel encoders.
    private int _cached;

    private int[] Bpe(string token)
    {
        if (_cache.TryGetValue(token, out var ids)) return ids;
        ids = BpeUncached(token);
        if (Volatile.Read(ref _cached) < MaxCachedWords && _cache.TryAdd(token, ids)) Interlocked.Increment(ref _cached);
        return ids;
    }

    private int[] BpeUncached(string t)
    {
        if (_vocab.TryGetValue(t, out var special) && t is Start or End) return [special];
        var bytes = Encoding.UTF8.GetBytes(t);
        var word = bytes.Select(b => ByteSymbols[b]).ToList();
        word[^1] += EndOfWord;
        while (word.Count > 1)
        {
            var best = -1;
            var bestRank = int.MaxValue;
            for (var i = 0; i < word.Count - 1; i++)
            {
                if (_ranks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                    (best, bestRank) = (i, rank);
            }
            if (best < 0) break;
            var (left, right) = (word[best], word[best + 1]);
            // Merge every occurrence of the pair, left to right, as the reference BPE does.
            var merged = new List<string>(word.Count);
            for (var i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && word[i] == left && word[i + 1] == right)
                {
                    merged.Add(left + right);
                    i++;
                }
                else merged.Add(word[i]);
            }
            word = merged;
        }
        return [.. word.Select(s => _vocab.TryGetValue(s, out var id) ? id : EndId)];
    }

    /// <summary>The GPT-2/CLIP byte-to-character table: printable bytes stand for themselves, the rest map above 255.</summary>
    private static string[] BuildByteSymbols()
    {
        var symbols = new string[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            symbols[b] = ((char)(printable ? b : next++)).ToString();
        }
        return symbols;
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
