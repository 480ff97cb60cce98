using Dsdc.Shared;
using Microsoft.Extensions.Options;

namespace Dsdc.Embedding;

/// <summary>Refuses to start with an unknown encoder or region set, or with CLIP chosen but not installed, saying what to do.</summary>
internal sealed class EmbeddingOptionsValidator(DsdcPaths paths) : IValidateOptions<EmbeddingOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddingOptions options)
    {
        if (!EncoderIds.All.Contains(options.Encoder))
            return ValidateOptionsResult.Fail(
                $"{EmbeddingOptions.Section}:Encoder: unknown encoder '{options.Encoder}' (known: {string.Join(", ", EncoderIds.All)})");
        if (Dsdc.ImageProcessing.PageRegions.Named(options.RegionSet) is null)
            return ValidateOptionsResult.Fail($"{EmbeddingOptions.Section}:{nameof(EmbeddingOptions.RegionSet)}: unknown region set " +
                $"'{options.RegionSet}' (known: {string.Join(", ", Dsdc.ImageProcessing.PageRegions.Sets.Select(s => s.Name))})");
        if (options.Encoder == EncoderIds.Clip && ClipModelFiles.TryFind(paths.ModelsDir, out var missing) is null)
            return ValidateOptionsResult.Fail($"{EmbeddingOptions.Section}:Encoder: {ClipModelFiles.NotInstalledMessage(paths.ModelsDir, missing)}");
        return ValidateOptionsResult.Success;
    }
}
