using System.Security.Cryptography;

namespace Dsdc.Tests.Infrastructure;

/// <summary>Dataset files whose bytes no other file of the list repeats and that are not among <c>known</c> (by content).</summary>
public static class UnseenDocuments
{
    /// <summary>Distinct-content TIFF and PNG pages from the end of the datasets (the start is what seeders take), skipping <paramref name="skip"/>.</summary>
    public static IReadOnlyList<string> Take(IEnumerable<string> known, int skip, int count)
    {
        var seen = known.Select(Sha1).ToHashSet(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var (path, _) in Fixtures.Labelled().Reverse())
        {
            if (!new[] { ".tif", ".tiff", ".png" }.Contains(Path.GetExtension(path).ToLowerInvariant())) continue;
            if (!seen.Add(Sha1(path))) continue;
            if (skip-- > 0) continue;
            result.Add(path);
            if (result.Count == count) break;
        }
        return result.Count == count ? result : throw new InvalidOperationException($"only {result.Count} unseen documents, {count} wanted");
    }

    public static string Sha1(string path) => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(path)));
}
