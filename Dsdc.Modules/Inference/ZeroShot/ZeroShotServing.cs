using Dsdc.Embedding;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>
/// The zero-shot model of this process, built on first use (it embeds the 16 class descriptions once). A build that
/// fails (the encoder out of memory for a moment) is not remembered: the next call builds it again.
/// </summary>
public sealed class ZeroShotServing(IDocumentEncoder encoder, IOptions<InferenceOptions> options)
{
    private readonly Lock _build = new();
    private ZeroShotModel? _model;

    public bool Enabled => options.Value.ZeroShot;

    public ZeroShotModel Model
    {
        get
        {
            if (Volatile.Read(ref _model) is { } built) return built;
            lock (_build)
            {
                if (_model is null) Volatile.Write(ref _model, new ZeroShotModel(encoder));
                return _model;
            }
        }
    }
}
