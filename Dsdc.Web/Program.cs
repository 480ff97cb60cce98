using Dsdc.Monitoring;
using Dsdc.Shared;
using Dsdc.Shared.Hosting;
using Dsdc.Shared.Jobs;

try
{
    var builder = DsdcHost.CreateBuilder(args);
    builder.AddSharedModule();
    builder.AddMonitoringModule();

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
