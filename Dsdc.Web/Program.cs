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
using Dsdc.Shared.Hosting;
using Dsdc.Shared.Jobs;
using Dsdc.Training;
using Dsdc.Web.Ui;

try
{
    var builder = DsdcHost.CreateBuilder(args);
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
    builder.AddDsdcUi();

    var app = builder.Build();
    return await app.RunDsdcAsync(args, web =>
    {
        web.UseSecurityHeaders();
        web.UseSharedPipeline();
        web.UseAuthentication();
        web.UseAuthorization();
        web.UseRateLimiter();
        web.UseMonitoring();
        web.MapMonitoringEndpoints();
        web.MapAuthEndpoints();
        web.MapPredictionApi();
        web.MapJobsDashboard(AuthPolicies.Admin);
        web.MapDsdcUi();
    }, worker =>
    {
        // `worker`: the job servers with health and metrics only (no UI, API or dashboard).
        worker.UseSharedPipeline();
        worker.UseMonitoring();
        worker.MapMonitoringEndpoints();
    });
}
catch (ConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
