namespace Dsdc.Shared;

/// <summary>A document's id: the SHA-1 of its bytes, 40 lower-case hexadecimal digits.</summary>
public static class DocumentIds
{
    public static bool IsValid(string id) => id.Length == 40 && id.All(char.IsAsciiHexDigitLower);
}
