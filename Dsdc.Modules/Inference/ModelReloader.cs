using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>Loads the champion when the server starts, then follows promotions made by other processes, and the classes
/// still labelled (<see cref="LabelledClasses"/>).</summary>
internal sealed class ModelReloader(ModelHost host, LabelledClasses labelled, IOptions<InferenceOptions> options, ILogger<ModelReloader> logger)
    : BackgroundService
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
            // And the classes still labelled, which the champion may predict (a correction in another process).
            await labelled.RefreshAsync(stoppingToken);
            if (interval == 0) return;
            await Task.Delay(TimeSpan.FromSeconds(interval), stoppingToken);
        }
    }
}
