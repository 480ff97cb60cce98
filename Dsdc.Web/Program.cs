using Dsdc;
using Dsdc.Auth;
using Dsdc.Inference.Api;
using Dsdc.Monitoring;
using Dsdc.Shared;
using Dsdc.Shared.Hosting;
using Dsdc.Shared.Jobs;
using Dsdc.Web.Ui;

try
{
    var builder = DsdcHost.CreateBuilder(args);
    builder.AddDsdcModules();
    builder.AddDsdcUi();

    var app = builder.Build();
    return await app.RunDsdcAsync(args, web =>
    {
        web.UseSecurityHeaders();
        web.UseSharedPipeline(observe: a => a.UseMonitoring());
        web.UseAuthentication();
        web.UseAuthorization();
        web.MapMonitoringEndpoints();
        web.MapAuthEndpoints();
        web.MapPredictionApi();
        web.MapJobsDashboard(AuthPolicies.Admin);
        web.MapDsdcUi();
    }, worker =>
    {
        // `worker`: the job servers with health and metrics only (no UI, API or dashboard).
        worker.UseSharedPipeline(observe: a => a.UseMonitoring());
        worker.MapMonitoringEndpoints();
    });
}
catch (Exception ex) when (ConfigurationException.ProblemsOf(ex) is { } problems)
{
    // A setting read while the modules register (a missing key, a value that does not convert).
    await DsdcHost.WriteConfigurationErrorAsync(problems);
    return 2;
}
