using Dsdc.Embedding;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>
/// The zero-shot model of this process, built on first use (it embeds the 16 class descriptions once). A build that
/// fails (the encoder out of memory for a moment) is not kept for good: for <see cref="RetryAfter"/> calls get that
/// failure at once (not a build each, one after another), then the next call builds it again. Either way the caller
/// gets a <see cref="NoModelException"/>: nothing can classify for now (the API answers 503 with Retry-After).
/// </summary>
public sealed class ZeroShotServing(IDocumentEncoder encoder, IOptions<InferenceOptions> options)
{
    internal static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    private readonly Lock _build = new();
    private ZeroShotModel? _model;
    private (long At, Exception Error)? _failure;

    public bool Enabled => options.Value.ZeroShot;

    public ZeroShotModel Model
    {
        get
        {
            if (Volatile.Read(ref _model) is { } built) return built;
            lock (_build)
            {
                if (_model is not null) return _model;
                if (_failure is { } f && Environment.TickCount64 - f.At < (long)RetryAfter.TotalMilliseconds)
                    throw Unavailable(f.Error);
                try
                {
                    Volatile.Write(ref _model, new ZeroShotModel(encoder));
                    _failure = null;
                    return _model!;
                }
                catch (Exception ex)
                {
                    _failure = (Environment.TickCount64, ex);
                    throw Unavailable(ex);
                }
            }
        }
    }

    private static NoModelException Unavailable(Exception error) =>
        new($"No trained model is served and the zero-shot model could not be built ({error.Message}); it is tried again within {RetryAfter.TotalSeconds:0} s.", error);
}
