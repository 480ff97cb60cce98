using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference.Api;

/// <summary>
/// How many classifications run at once (<c>Api:MaxConcurrentPredictions</c>) and how many may wait for one to end
/// (<c>Api:QueueLimit</c>; beyond that, 503 with Retry-After), shared by <c>POST /api/v1/predict</c> and the classify page.
/// A request enters once its upload has been read and checked: a client sending its file slowly (a phone on a slow
/// network) holds no slot while it sends, so it keeps no one else's document from being classified, and a file refused
/// as too large, empty or of another type never waits for one.
/// </summary>
public sealed class PredictionGate : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;

    public PredictionGate(IOptions<PredictionApiOptions> options)
    {
        var o = options.Value;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = o.MaxConcurrentPredictions,
            QueueLimit = o.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>A slot to classify in, once one is free; a lease that is not acquired (<see cref="RateLimitLease.IsAcquired"/>)
    /// when as many requests already wait as <c>Api:QueueLimit</c> allows. Dispose it when the classification ends.</summary>
    public ValueTask<RateLimitLease> EnterAsync(CancellationToken ct) => _limiter.AcquireAsync(1, ct);

    public void Dispose() => _limiter.Dispose();
}
