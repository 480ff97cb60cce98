using System.Text;

namespace Dsdc.Shared;

/// <summary>
/// Text from a request (or a PDF's text layer) on its way to PostgreSQL: <c>text</c> cannot hold U+0000 (error 22021) and UTF-8 cannot hold a lone
/// surrogate, so both would turn a user's typo into a server error. They are dropped (with the other control characters
/// for names), never stored.
/// </summary>
public static class TextInput
{
    /// <summary>Search text: NUL and lone surrogates removed, everything else kept.</summary>
    public static string ForDatabase(string value) => Clean(value, dropControls: false);

    /// <summary>A file name as given by a client: also without control characters (tabs, new lines, escapes).</summary>
    public static string Name(string value) => Clean(value, dropControls: true);

    private static string Clean(string value, bool dropControls)
    {
        if (!NeedsCleaning(value, dropControls)) return value;
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                sb.Append(c).Append(value[++i]);
                continue;
            }
            if (char.IsSurrogate(c) || c == '\0' || (dropControls && char.IsControl(c))) continue;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool NeedsCleaning(string value, bool dropControls)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0' || (dropControls && char.IsControl(c))) return true;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return true;
        }
        return false;
    }
}
