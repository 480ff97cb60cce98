using Dsdc.Pipeline;
using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Embedding;

public static class EmbeddingModule
{
    /// <summary>
    /// The configured encoder (created on first use: its sessions take a second and a few hundred MB), the embedding
    /// stage for the pipeline and similar-document search.
    /// </summary>
    public static IHostApplicationBuilder AddEmbeddingModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<EmbeddingOptions>(EmbeddingOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<EmbeddingOptions>, EmbeddingOptionsValidator>();
        builder.Services.AddSingleton<OnnxSessionFactory>();
        builder.Services.AddSingleton<EncoderCatalog>();
        builder.Services.AddSingleton<IDocumentEncoder>(sp =>
            sp.GetRequiredService<EncoderCatalog>().Create(sp.GetRequiredService<IOptions<EmbeddingOptions>>().Value.Encoder));
        builder.Services.AddSingleton<EmbeddingStore>();
        builder.Services.AddSingleton<RegionEncoder>();
        builder.Services.AddSingleton<SimilarDocumentSearch>();
        builder.Services.AddSingleton<EmbeddingJob>();
        builder.Services.AddSingleton<IEmbeddingStage>(sp => sp.GetRequiredService<EmbeddingJob>());
        return builder;
    }
}
