using Dsdc.Auth;
using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Inference;
using Dsdc.Inference.Api;
using Dsdc.Ingestion;
using Dsdc.Monitoring;
using Dsdc.Ocr;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Training;
using Microsoft.Extensions.Hosting;

namespace Dsdc;

public static class DsdcModules
{
    /// <summary>Every module of the product, in order: the composition that Dsdc.Web serves and Dsdc.Bench measures.</summary>
    public static IHostApplicationBuilder AddDsdcModules(this IHostApplicationBuilder builder)
    {
        builder.AddSharedModule();
        builder.AddMonitoringModule();
        builder.AddAuthModule();
        builder.AddImageProcessingModule();
        builder.AddOcrModule();
        builder.AddIngestionModule();
        builder.AddPipelineModule();
        builder.AddEmbeddingModule();
        builder.AddTrainingModule();
        builder.AddInferenceModule();
        builder.AddPredictionApi();
        return builder;
    }
}
