using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// Reads the labelled documents embedded by the serving encoder for training: first what a job decides from
/// (<see cref="ManifestAsync"/>: labels, sides of the stored split, a fingerprint), then the inputs of the documents it
/// fits and scores (<see cref="PagesAsync"/>).
/// </summary>
public sealed class TrainingDataLoader(TrainingStore store, PageInputsLoader pages, Dsdc.Embedding.IDocumentEncoder encoder,
    Dsdc.Embedding.RegionEncoder regions, IOptions<TrainingOptions> options)
{
    /// <summary>
    /// What a training job decides from, without holding any document's inputs: every labelled document embedded by the
    /// serving encoder (its label, vector row, whether its region features exist, its side of the stored split, new
    /// documents assigned one now) and the fingerprint of everything a model would be fitted on. The documents' rows are
    /// read one at a time, so a job over 100,000 labelled documents holds 100,000 small records here, not their text,
    /// vectors and region features (about 50 KB each); it then loads the inputs of the documents it fits and scores
    /// (<see cref="PagesAsync"/>).
    /// </summary>
    public async Task<LabelledManifest> ManifestAsync(CancellationToken ct)
    {
        var read = new List<(string DocumentId, int Label, long VectorId, bool HasRegions)>();
        using var fingerprint = new DataFingerprint(encoder.Id, encoder.Version, regions.Version);
        await foreach (var e in store.StreamLabelledDocumentsAsync(encoder.Id, encoder.Version, regions.Version, ct))
        {
            fingerprint.Add(e.Example.DocumentId, e.Example.Label, pages.LoadForTraining(e));
            read.Add((e.Example.DocumentId, e.Example.Label, e.Example.VectorId, e.Regions is not null));
        }
        var sides = await EnsureSplitAsync(read.Select(d => (d.DocumentId, d.Label)).ToList(), ct);
        // A document deleted while the manifest was read has no side (its split row went with it): it is left out, and the
        // fingerprint, which counted it, differs from the next job's, which trains again.
        return new LabelledManifest(read.Where(d => sides.ContainsKey(d.DocumentId))
                .Select(d => new LabelledDocument(d.DocumentId, d.Label, d.VectorId, d.HasRegions, sides[d.DocumentId])).ToList(),
            fingerprint.Finish());
    }

    /// <summary>
    /// The inputs of the given documents of a <see cref="ManifestAsync"/>, in ordinal id order. A document whose label or
    /// vector changed since the manifest was read (a correction, the page processed again while the job started) is left
    /// out: the job fits no label the manifest did not read, and says that it read a changing set (the next job trains).
    /// </summary>
    public async Task<IReadOnlyList<LabelledPage>> PagesAsync(IReadOnlyList<LabelledDocument> documents, CancellationToken ct)
    {
        var wanted = documents.ToDictionary(d => d.DocumentId, StringComparer.Ordinal);
        var rows = await store.LabelledDocumentsOfAsync(encoder.Id, encoder.Version, regions.Version, wanted.Keys, ct);
        return rows.Where(r => wanted.TryGetValue(r.Example.DocumentId, out var d) && d.Label == r.Example.Label && d.VectorId == r.Example.VectorId)
            .Select(r => new LabelledPage(r.Example.DocumentId, r.Example.Label, pages.LoadForTraining(r)) { VectorId = r.Example.VectorId })
            .ToList();
    }

    /// <summary>Every labelled document on its side of the stored split (new documents assigned first), with its vector, and
    /// with <paramref name="withPages"/> what the views read: the whole split, as no job reads it past the caps.</summary>
    public async Task<DataSplit> LoadAsync(CancellationToken ct, bool withPages = false)
    {
        var manifest = await ManifestAsync(ct);
        var pages = (await PagesAsync(manifest.Documents, ct)).ToDictionary(p => p.DocumentId, p => p.Inputs, StringComparer.Ordinal);
        return DataSplit.Of(manifest.Documents, pages, withPages);
    }

    /// <summary>The fingerprint of these pages' documents, labels and inputs, as <see cref="ManifestAsync"/> computes it for all.</summary>
    public string Fingerprint(IEnumerable<LabelledPage> pages)
    {
        using var fingerprint = new DataFingerprint(encoder.Id, encoder.Version, regions.Version);
        foreach (var p in pages.OrderBy(p => p.DocumentId, StringComparer.Ordinal)) fingerprint.Add(p.DocumentId, p.Label, p.Inputs);
        return fingerprint.Finish();
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

/// <summary>A labelled document as a training job decides from it: no inputs held.</summary>
/// <param name="VectorId">the stored vector the job reads (<c>embedding.vectors.id</c>)</param>
/// <param name="HasRegions">whether its region features are stored</param>
/// <param name="Side">its side of the stored split (<see cref="SplitSides"/>)</param>
public sealed record LabelledDocument(string DocumentId, int Label, long VectorId, bool HasRegions, string Side);

/// <summary>Every labelled document embedded by the serving encoder, in ordinal id order, and the fingerprint of their labels
/// and inputs (<see cref="TrainingDataLoader.ManifestAsync"/>).</summary>
public sealed record LabelledManifest(IReadOnlyList<LabelledDocument> Documents, string Fingerprint);

/// <summary>
/// What a model is fitted on, as one hash: every (document, label), whether its region features exist, the encoders'
/// versions, and the inputs themselves (the raw text with its extra readings and the vector of each document), which
/// change when a document is processed again under the same encoder (another OCR setting, a new preprocessing version).
/// Documents are added in ordinal id order, each once, so the same data gives the same hash however it was read.
/// </summary>
internal sealed class DataFingerprint : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private string? _last;

    public DataFingerprint(string encoder, string encoderVersion, string regionsVersion) =>
        _hash.AppendData(Encoding.UTF8.GetBytes($"{encoder}@{encoderVersion}|{regionsVersion}\n"));

    public void Add(string documentId, int label, PageInputs inputs)
    {
        if (_last is not null && string.CompareOrdinal(_last, documentId) >= 0)
            throw new InvalidOperationException($"documents must come in ordinal id order, each once ('{documentId}' after '{_last}')");
        _last = documentId;
        var text = inputs.AllReadings;
        _hash.AppendData(Encoding.UTF8.GetBytes($"{documentId}:{label}:{(inputs.Regions is null ? '-' : 'r')}:{text.Length}:"));
        _hash.AppendData(Encoding.UTF8.GetBytes(text));
        _hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(inputs.Vector.AsSpan()));
        _hash.AppendData("\n"u8);
    }

    public string Finish() => Convert.ToHexString(_hash.GetHashAndReset());

    public void Dispose() => _hash.Dispose();
}
