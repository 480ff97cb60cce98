using Dsdc.Embedding;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>The zero-shot model of this process, built on first use (it embeds the 16 class descriptions once).</summary>
public sealed class ZeroShotServing(IDocumentEncoder encoder, IOptions<InferenceOptions> options)
{
    private readonly Lazy<ZeroShotModel> _model = new(() => new ZeroShotModel(encoder));

    public bool Enabled => options.Value.ZeroShot;

    public ZeroShotModel Model => _model.Value;
}
