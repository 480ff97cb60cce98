using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Dsdc.Training;
using Microsoft.AspNetCore.Html;

namespace Dsdc.Web.Ui;

/// <summary>Server-rendered inline SVG charts: no script, no inline style (the CSP forbids both), text encoded.</summary>
public static class Charts
{
    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string E(string s) => HtmlEncoder.Default.Encode(s);

    /// <summary>One horizontal bar per class, the predicted class highlighted.</summary>
    public static IHtmlContent Probabilities(IReadOnlyList<string> names, IReadOnlyList<float> probabilities, int predicted)
    {
        const int row = 22, labelWidth = 170, barWidth = 330, width = labelWidth + barWidth + 60;
        var height = row * names.Count + 4;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" role=\"img\" aria-labelledby=\"prob-title\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" data-testid=\"probability-chart\">");
        sb.Append("<title id=\"prob-title\">Probability of each class</title>");
        for (var i = 0; i < names.Count; i++)
        {
            var p = i < probabilities.Count ? probabilities[i] : 0;
            var y = i * row + 2;
            var cls = i == predicted ? "bar bar-top" : "bar";
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{labelWidth - 6}\" y=\"{y + 15}\" text-anchor=\"end\">{E(names[i])}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"track\" x=\"{labelWidth}\" y=\"{y + 3}\" width=\"{barWidth}\" height=\"{row - 8}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"{cls}\" x=\"{labelWidth}\" y=\"{y + 3}\" width=\"{F(Math.Max(0, p) * barWidth)}\" height=\"{row - 8}\"><title>{E(names[i])}: {p:P1}</title></rect>");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"value\" x=\"{labelWidth + barWidth + 6}\" y=\"{y + 15}\">{(p * 100).ToString("0.0", CultureInfo.InvariantCulture)}%</text>");
        }
        sb.Append("</svg>");
        return new HtmlString(sb.ToString());
    }

    /// <summary>Train and validation curves of one metric per epoch (loss or accuracy).</summary>
    public static IHtmlContent Curves(string title, string id, IReadOnlyList<EpochMetrics> epochs, Func<EpochMetrics, double?> train,
        Func<EpochMetrics, double?> validation)
    {
        const int width = 460, height = 240, left = 50, right = 12, top = 24, bottom = 34;
        var values = epochs.SelectMany(e => new[] { train(e), validation(e) }).OfType<double>().Where(double.IsFinite).ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}-t\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title id=\"{id}-t\">{E(title)}</title>");
        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{left}\" y=\"16\">{E(title)}</text>");
        if (values.Count == 0 || epochs.Count == 0)
        {
            sb.Append("<text class=\"axis\" x=\"60\" y=\"120\">no epochs recorded</text></svg>");
            return new HtmlString(sb.ToString());
        }
        double min = Math.Min(0, values.Min()), max = values.Max();
        if (max - min < 1e-9) max = min + 1;
        double X(int epoch) => left + (epochs.Count == 1 ? 0.5 : (epoch - 1.0) / (epochs.Count - 1)) * (width - left - right);
        double Y(double v) => top + (1 - (v - min) / (max - min)) * (height - top - bottom);
        sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\"/>");
        foreach (var v in new[] { min, (min + max) / 2, max })
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{left - 4}\" y=\"{F(Y(v) + 4)}\" text-anchor=\"end\">{v.ToString("0.##", CultureInfo.InvariantCulture)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{(left + width) / 2}\" y=\"{height - 6}\" text-anchor=\"middle\">epoch (1–{epochs.Count})</text>");
        void Line(Func<EpochMetrics, double?> pick, string cls, string name, int legendX)
        {
            var points = epochs.Select((e, i) => (i + 1, pick(e))).Where(p => p.Item2 is { } v && double.IsFinite(v))
                .Select(p => $"{F(X(p.Item1))},{F(Y(p.Item2!.Value))}").ToList();
            if (points.Count == 0) return;
            sb.Append(CultureInfo.InvariantCulture, $"<polyline class=\"{cls}\" points=\"{string.Join(' ', points)}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"{cls}\" x1=\"{legendX}\" y1=\"12\" x2=\"{legendX + 18}\" y2=\"12\"/><text class=\"axis\" x=\"{legendX + 22}\" y=\"16\">{name}</text>");
        }
        Line(train, "line-train", "train", width - 170);
        Line(validation, "line-val", "validation", width - 100);
        sb.Append("</svg>");
        return new HtmlString(sb.ToString());
    }

    /// <summary>
    /// Accuracy-coverage curves: answering only the most confident share x of the documents is right y of the time
    /// (cross-validated). One line per run; the title names what is drawn, each point has a tooltip.
    /// </summary>
    public static IHtmlContent Coverage(string id, IReadOnlyList<(string Name, IReadOnlyList<CoveragePoint> Points)> series)
    {
        const int width = 460, left = 50, right = 14, bottom = 40, legendRow = 16;
        var top = 20 + legendRow * series.Count;
        var height = 230 + top;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}-t\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" data-testid=\"coverage-chart\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title id=\"{id}-t\">Accuracy when answering only the most confident share of documents</title>");
        if (series.All(s => s.Points.Count == 0))
        {
            sb.Append("<text class=\"axis\" x=\"60\" y=\"120\">no accuracy-coverage curve recorded</text></svg>");
            return new HtmlString(sb.ToString());
        }
        var min = Math.Floor(Math.Min(0.5, series.SelectMany(s => s.Points).Min(p => p.Accuracy)) * 10) / 10;
        double X(double coverage) => left + coverage * (width - left - right);
        double Y(double accuracy) => top + (1 - (accuracy - min) / (1 - min)) * (height - top - bottom);
        sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\"/>");
        foreach (var v in new[] { min, (min + 1) / 2, 1.0 })
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{left - 4}\" y=\"{F(Y(v) + 4)}\" text-anchor=\"end\">{(v * 100).ToString("0", CultureInfo.InvariantCulture)}%</text>");
        foreach (var c in new[] { 0.0, 0.5, 1.0 })
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{F(X(c))}\" y=\"{height - bottom + 14}\" text-anchor=\"middle\">{(c * 100).ToString("0", CultureInfo.InvariantCulture)}%</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{(left + width) / 2}\" y=\"{height - 6}\" text-anchor=\"middle\">share of documents answered (most confident first)</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{left - 40}\" y=\"{top - 8}\">accuracy</text>");
        string[] classes = ["line-train", "line-val"];
        for (var i = 0; i < series.Count; i++)
        {
            var (name, points) = series[i];
            if (points.Count == 0) continue;
            var cls = classes[i % classes.Length];
            var ordered = points.OrderBy(p => p.Coverage).ToList();
            sb.Append(CultureInfo.InvariantCulture, $"<polyline class=\"{cls}\" points=\"{string.Join(' ', ordered.Select(p => $"{F(X(p.Coverage))},{F(Y(p.Accuracy))}"))}\"/>");
            foreach (var p in ordered)
                sb.Append(CultureInfo.InvariantCulture, $"<circle class=\"dot\" cx=\"{F(X(p.Coverage))}\" cy=\"{F(Y(p.Accuracy))}\" r=\"2.5\"><title>{E(name)}: {p.Accuracy:P1} right when answering {p.Coverage:P0} (confidence ≥ {p.Threshold:0.00})</title></circle>");
            var legendY = 10 + i * legendRow;
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"{cls}\" x1=\"{left + 60}\" y1=\"{legendY}\" x2=\"{left + 78}\" y2=\"{legendY}\"/><text class=\"axis\" x=\"{left + 82}\" y=\"{legendY + 4}\">{E(name)}</text>");
        }
        sb.Append("</svg>");
        return new HtmlString(sb.ToString());
    }

    /// <summary>The CSS class of a heat-map cell: 0..5 by the share of its row.</summary>
    public static string HeatClass(int count, int rowTotal) =>
        count == 0 || rowTotal == 0 ? "heat0" : $"heat{Math.Clamp((int)Math.Ceiling(5.0 * count / rowTotal), 1, 5)}";

    /// <summary>
    /// The colour of a predicted class: green when the answer needs no review, orange when it does and its class is still
    /// more probable than all the others together, red below that. Read from what the review threshold decided and the
    /// probability of the class, not from the entropy over 16 classes, which a model that knows two classes keeps
    /// above 75% even for a 50/50 answer.
    /// </summary>
    public static string VerdictClass(bool needsReview, double topProbability) =>
        !needsReview ? "conf-high" : topProbability >= 0.5 ? "conf-mid" : "conf-low";
}
