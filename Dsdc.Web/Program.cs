using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Monitoring;
using Dsdc.Ocr;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Shared.Hosting;
using Dsdc.Shared.Jobs;

try
{
    var builder = DsdcHost.CreateBuilder(args);
    builder.AddSharedModule();
    builder.AddMonitoringModule();
    builder.AddImageProcessingModule();
    builder.AddOcrModule();
    builder.AddIngestionModule();
    builder.AddPipelineModule();
    builder.AddEmbeddingModule();

    var app = builder.Build();
    return await app.RunDsdcAsync(args, web =>
    {
        web.UseSharedPipeline();
        web.UseMonitoring();
        web.MapMonitoringEndpoints();
        web.MapJobsDashboard();
    });
}
catch (ConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
