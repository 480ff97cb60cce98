namespace Dsdc.Ingestion;

/// <summary>
/// Files an operating system writes beside the files a person copies, never documents: macOS's <c>.DS_Store</c> (the
/// folder's view settings) and AppleDouble <c>._name</c> files (another file's extended attributes, written on shares and
/// FAT or exFAT drives), Windows' <c>Thumbs.db</c>, <c>ehthumbs.db</c> and <c>desktop.ini</c>. A folder copied from a Mac or
/// a Windows share holds them; they are not counted as its documents, and they go with the folder once its document is
/// stored. Any other file, a hidden one too, counts.
/// </summary>
internal static class FolderMetadata
{
    private static readonly string[] Names = [".DS_Store", "Thumbs.db", "ehthumbs.db", "desktop.ini"];

    public static bool IsMetadata(string name) =>
        Names.Any(n => n.Equals(name, StringComparison.OrdinalIgnoreCase)) || (name.StartsWith("._", StringComparison.Ordinal) && name.Length > 2);
}
