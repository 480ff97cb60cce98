using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// Loads one encoder's labelled vectors and places them on the stored split, assigning new documents first; with
/// <c>withPages</c>, also what the views of a multi-view model read (raw text, page layout).
/// </summary>
public sealed class TrainingDataLoader(TrainingStore store, PageInputsLoader pages, Dsdc.Embedding.IDocumentEncoder encoder,
    Dsdc.Embedding.RegionEncoder regions, IOptions<TrainingOptions> options)
{
    public async Task<DataSplit> LoadAsync(string encoder, string version, CancellationToken ct, bool withPages = false)
    {
        var stored = await store.LabelledDocumentsAsync(encoder, version, withText: withPages, ct, regions.Version);
        var examples = stored.Select(e => e.Example).ToList();
        var sides = await EnsureSplitAsync(examples.Select(e => (e.DocumentId, e.Label)).ToList(), ct);
        List<LabelledVector> Side(string side) => examples.Where(e => sides[e.DocumentId] == side).ToList();
        return new DataSplit(Side(SplitSides.Train), Side(SplitSides.Validation), Side(SplitSides.Test))
        {
            Pages = withPages ? stored.ToDictionary(e => e.Example.DocumentId, pages.LoadForTraining, StringComparer.Ordinal) : null,
        };
    }

    /// <summary>The version of the region features the views read.</summary>
    public string RegionsVersion => regions.Version;

    /// <summary>The regions whose features the views read (<c>Embedding:RegionSet</c>).</summary>
    public Dsdc.ImageProcessing.RegionSet RegionSet => regions.Set;

    /// <summary>
    /// Every labelled document embedded by the serving encoder, with everything the views read (vector, raw text,
    /// layout, region features), in document-id order: what cross-validation and the fused models train on.
    /// </summary>
    public async Task<IReadOnlyList<LabelledPage>> LoadAllAsync(CancellationToken ct)
    {
        var stored = await store.LabelledDocumentsAsync(encoder.Id, encoder.Version, withText: true, ct, regions.Version);
        return stored.Select(e => new LabelledPage(e.Example.DocumentId, e.Example.Label, pages.LoadForTraining(e)) { VectorId = e.Example.VectorId }).ToList();
    }

    /// <summary>The side of every given document; those without one are assigned and stored now.</summary>
    public async Task<IReadOnlyDictionary<string, string>> EnsureSplitAsync(IReadOnlyList<(string DocumentId, int Label)> documents, CancellationToken ct)
    {
        var o = options.Value;
        var existing = await store.SplitAsync(ct);
        var known = existing.Select(e => e.DocumentId).ToHashSet(StringComparer.Ordinal);
        var fresh = SplitAssigner.AssignNew(existing, documents.Where(d => !known.Contains(d.DocumentId)).ToList(),
            o.ValidationFraction, o.TestFraction, o.Seed);
        await store.AddSplitAsync(fresh, o.Seed, ct);
        // Read back: another process may have assigned some of them first, and its choice stands.
        var stored = fresh.Count == 0 ? existing : await store.SplitAsync(ct);
        return stored.ToDictionary(s => s.DocumentId, s => s.Side, StringComparer.Ordinal);
    }
}
