using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Dsdc.TextProcessing;

/// <summary>
/// The original system's text cleaning, as a versioned processor: drop <c>pgNbr=...</c> markers, HTML-unescape,
/// lowercase, keep words of two or more letters a-z, drop English stop words. An empty result is valid.
/// </summary>
public static partial class TextCleaner
{
    public const string Processor = "dsdc-text-cleaner";

    /// <summary>Bump when the rules change: the pipeline then recomputes every processed text.</summary>
    public const string Version = "1";

    public static string Clean(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var text = PageNumberMarker().Replace(raw, " ");
        text = WebUtility.HtmlDecode(text).ToLowerInvariant();
        var kept = new StringBuilder(text.Length);
        foreach (Match word in Word().Matches(text))
        {
            if (StopWords.English.Contains(word.Value)) continue;
            if (kept.Length > 0) kept.Append(' ');
            kept.Append(word.Value);
        }
        return kept.ToString();
    }

    // The OCR of RVL-CDIP pages carries page markers such as "pgNbr=2".
    [GeneratedRegex(@"pgNbr=\S*", RegexOptions.CultureInvariant)]
    private static partial Regex PageNumberMarker();

    [GeneratedRegex("[a-z]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex Word();
}
