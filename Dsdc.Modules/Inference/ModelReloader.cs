using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>Loads the champion when the server starts, then follows promotions made by other processes.</summary>
internal sealed class ModelReloader(ModelHost host, IOptions<InferenceOptions> options, ILogger<ModelReloader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.ReloadIntervalSeconds;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await host.ReloadAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The served model (if any) stays; the next check tries again.
                logger.LogError(ex, "Could not load the champion model");
            }
            if (interval == 0) return;
            await Task.Delay(TimeSpan.FromSeconds(interval), stoppingToken);
        }
    }
}
