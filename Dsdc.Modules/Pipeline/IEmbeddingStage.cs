namespace Dsdc.Pipeline;

/// <summary>
/// The last stage of the pipeline, provided by the Embedding module when it is registered; the pipeline's jobs, runner
/// and backlog metrics take it as an optional constructor parameter.
/// </summary>
public interface IEmbeddingStage
{
    /// <summary>Embeds up to <paramref name="maxDocuments"/> documents that have a processed image and text but no embedding yet.</summary>
    Task<int> EmbedMissingAsync(int maxDocuments, CancellationToken ct) => EmbedMissingAsync(maxDocuments, new HashSet<string>(StringComparer.Ordinal), ct);

    /// <summary>
    /// As <see cref="EmbedMissingAsync(int, CancellationToken)"/>, leaving out the documents in <paramref name="failed"/>
    /// and adding those that fail: a series of calls (one job) tries each document once.
    /// </summary>
    Task<int> EmbedMissingAsync(int maxDocuments, HashSet<string> failed, CancellationToken ct);

    /// <summary>Documents waiting for an embedding.</summary>
    Task<long> CountMissingAsync(CancellationToken ct);

    /// <summary>Page features (region features of the page) for up to <paramref name="maxDocuments"/> embedded documents that lack them.</summary>
    Task<int> AddPageFeaturesAsync(int maxDocuments, CancellationToken ct) => AddPageFeaturesAsync(maxDocuments, new HashSet<string>(StringComparer.Ordinal), ct);

    /// <summary>As <see cref="AddPageFeaturesAsync(int, CancellationToken)"/>, each document of a series of calls tried once.</summary>
    Task<int> AddPageFeaturesAsync(int maxDocuments, HashSet<string> failed, CancellationToken ct);

    /// <summary>Embedded documents waiting for their page features.</summary>
    Task<long> CountMissingFeaturesAsync(CancellationToken ct);
}
