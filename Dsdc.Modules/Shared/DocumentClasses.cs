namespace Dsdc.Shared;

/// <summary>The 16 RVL-CDIP classes; the index is the label value and the model's output index.</summary>
public static class DocumentClasses
{
    public static readonly IReadOnlyList<string> Names =
    [
        "letter", "form", "email", "handwritten", "advertisement", "scientific report", "scientific publication",
        "specification", "file folder", "news article", "budget", "invoice", "presentation", "questionnaire", "resume", "memo",
    ];

    public const int Count = 16;

    public static bool IsValid(int label) => label is >= 0 and < Count;

    public static string NameOf(int label) =>
        IsValid(label) ? Names[label] : throw new ArgumentOutOfRangeException(nameof(label), label, "not a class index 0-15");
}
