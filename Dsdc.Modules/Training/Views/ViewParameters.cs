using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>The inputs a view reads from <see cref="PageInputs"/>.</summary>
public static class ViewKinds
{
    /// <summary>The encoder's vector (ResNet18 image half ++ MiniLM text half).</summary>
    public const string Vector = "vector";

    /// <summary>TF-IDF of the raw OCR text (<see cref="RawTextTfidf"/>).</summary>
    public const string Text = "text";

    /// <summary>TF-IDF of the raw OCR text and its extra readings together (<see cref="PageInputs.AllReadings"/>): the
    /// text view of the fused recipes. A page without extra readings (a PDF's own text layer) gives its text alone.</summary>
    public const string Readings = "readings";

    /// <summary>The 32x32 ink-density grid of the page (<see cref="PageLayout"/>).</summary>
    public const string Layout = "layout";

    /// <summary>ResNet18 features of 11 regions of the page (whole, header, footer, halves, quadrants).</summary>
    public const string Regions = "regions";

    /// <summary>The image part of the encoder's vector alone (ResNet18 or CLIP image features of the whole page).</summary>
    public const string Image = "image";

    /// <summary>The text part of the encoder's vector alone (MiniLM or CLIP text embedding of the cleaned text).</summary>
    public const string Sentence = "sentence";

    /// <summary>TF-IDF of the first lines of the raw OCR text (<see cref="PageInputs.Header"/>).</summary>
    public const string Header = "header";

    /// <summary>The classes' cue words found in the page's OCR readings (<see cref="CueLexicon"/>).</summary>
    public const string Cues = "cues";

    public static readonly IReadOnlyList<string> All = [Vector, Text, Readings, Layout, Regions, Image, Sentence, Header, Cues];

    /// <summary>Views whose features are a TF-IDF fitted on the training side.</summary>
    public static bool IsText(string view) => view is Text or Readings or Header;
}

/// <summary>
/// One view of a multi-view model: which features, the network on them (no hidden layers = multinomial logistic
/// regression), L2 weight decay, whether the features are standardised, and its weight in the probability average.
/// </summary>
public sealed record ViewParameters(
    [property: JsonPropertyName("view")] string View,
    [property: JsonPropertyName("model")] MlpParameters Model,
    [property: JsonPropertyName("weight_decay")] double WeightDecay,
    [property: JsonPropertyName("standardize")] bool Standardize,
    [property: JsonPropertyName("weight")] double Weight = 1);

/// <summary>A multi-view model: one classifier per view, their probabilities averaged with the views' weights.</summary>
public sealed record ViewEnsembleParameters([property: JsonPropertyName("views")] IReadOnlyList<ViewParameters> Views)
{
    public string ToJson() => JsonSerializer.Serialize(new { approach = "views", views = Views });

    /// <summary>Logistic regression on a view: a dense layer to the 16 logits, trained with Adam at <paramref name="lr"/>.</summary>
    public static ViewParameters Linear(string view, double lr, double weightDecay, bool standardize, double weight = 1) =>
        new(view, new MlpParameters([], lr), weightDecay, standardize, weight);
}
