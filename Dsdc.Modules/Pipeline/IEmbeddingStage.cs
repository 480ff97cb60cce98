namespace Dsdc.Pipeline;

/// <summary>
/// The last stage of the pipeline, provided by the Embedding module when it is registered; the pipeline's jobs, runner
/// and backlog metrics take it as an optional constructor parameter.
/// </summary>
public interface IEmbeddingStage
{
    /// <summary>Embeds up to <paramref name="maxDocuments"/> documents that have a processed image and text but no embedding yet.</summary>
    Task<int> EmbedMissingAsync(int maxDocuments, CancellationToken ct);

    /// <summary>Documents waiting for an embedding.</summary>
    Task<long> CountMissingAsync(CancellationToken ct);

    /// <summary>Page features (region features of the page) for up to <paramref name="maxDocuments"/> embedded documents that lack them.</summary>
    Task<int> AddPageFeaturesAsync(int maxDocuments, CancellationToken ct);

    /// <summary>Embedded documents waiting for their page features.</summary>
    Task<long> CountMissingFeaturesAsync(CancellationToken ct);
}
