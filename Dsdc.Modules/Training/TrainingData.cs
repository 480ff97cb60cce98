namespace Dsdc.Training;

/// <summary>One training example: a document's vector from one encoder and its effective label.</summary>
public sealed record LabelledVector(string DocumentId, int Label, float[] Vector)
{
    /// <summary>The stored vector's id (<c>embedding.vectors.id</c>), 0 where it was not read from the store.</summary>
    public long VectorId { get; init; }
}

/// <summary>The three sides of the stored split, for one encoder; with <see cref="Pages"/> when the views' inputs were loaded.</summary>
public sealed record DataSplit(IReadOnlyList<LabelledVector> Train, IReadOnlyList<LabelledVector> Validation, IReadOnlyList<LabelledVector> Test)
{
    public int Dimensions => Train.Count > 0 ? Train[0].Vector.Length : 0;

    /// <summary>What the views read, by document id (null unless loaded with pages).</summary>
    public IReadOnlyDictionary<string, PageInputs>? Pages { get; init; }

    /// <summary>
    /// The <paramref name="documents"/> on their sides of the stored split, each with its vector from
    /// <paramref name="pages"/>; a document whose inputs were not read (its label or vector changed since the manifest)
    /// is left out. <paramref name="withPages"/>: the split keeps the pages for the views.
    /// </summary>
    public static DataSplit Of(IEnumerable<LabelledDocument> documents, IReadOnlyDictionary<string, PageInputs> pages, bool withPages = true)
    {
        var read = documents.Where(d => pages.ContainsKey(d.DocumentId)).ToList();
        List<LabelledVector> Side(string side) => read.Where(d => d.Side == side)
            .Select(d => new LabelledVector(d.DocumentId, d.Label, pages[d.DocumentId].Vector) { VectorId = d.VectorId }).ToList();
        return new DataSplit(Side(SplitSides.Train), Side(SplitSides.Validation), Side(SplitSides.Test)) { Pages = withPages ? pages : null };
    }

    public IReadOnlyList<LabelledPage> PagesOf(IReadOnlyList<LabelledVector> side) =>
        side.Select(e => new LabelledPage(e.DocumentId, e.Label, (Pages ?? throw new InvalidOperationException("the split was loaded without pages"))[e.DocumentId])
            { VectorId = e.VectorId }).ToList();
}

/// <summary>Which side of the split a document belongs to.</summary>
public static class SplitSides
{
    public const string Train = "train";
    public const string Validation = "validation";
    public const string Test = "test";
}
