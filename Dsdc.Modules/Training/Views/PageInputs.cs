namespace Dsdc.Training;

/// <summary>
/// Everything the views of a model read from one document: the encoder's vector, the raw OCR text (before cleaning:
/// its numbers, punctuation and OCR noise carry layout and genre cues) and the page layout thumbnail.
/// Training builds it from the stored lineage, serving from the file being classified, through the same code.
/// </summary>
public sealed record PageInputs(float[] Vector, string RawText, float[] Layout);
