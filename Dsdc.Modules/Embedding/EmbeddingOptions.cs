using System.ComponentModel.DataAnnotations;

namespace Dsdc.Embedding;

public sealed class EmbeddingOptions
{
    public const string Section = "Embedding";

    /// <summary>Which encoder embeds documents: <c>resnet18-minilm</c> (offline default) or <c>clip-vit-base-patch32</c>.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Encoder { get; set; } = EncoderIds.Default;

    /// <summary>Documents embedded per ONNX batch (and per database round trip) by the embedding job.</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 32;

    /// <summary>
    /// Threads one ONNX Runtime call may use. The default leaves half of the cores to OCR, which runs at the same time.
    /// </summary>
    [Range(1, 256)]
    public int IntraOpThreads { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Try ONNX Runtime's CUDA provider first; without a usable GPU it falls back to the CPU (one log line).</summary>
    public bool UseCuda { get; set; } = true;

    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>
    /// Which regions of each page the <c>regions</c> view reads: <c>all</c> (11: the page, five horizontal bands, the
    /// halves and three quadrants; the default) or <c>bands</c> (the four horizontal bands: 4/11 of the cost, about half
    /// a point less accurate, docs/benchmarks.md). Changing it recomputes every document's region features, and a
    /// champion trained on the other set stops serving until the training job has retrained on the new features.
    /// </summary>
    public string RegionSet { get; set; } = "all";

    /// <summary>HNSW candidate list size for similar-document queries: higher is more exact and slower (pgvector default 40).</summary>
    [Range(10, 1000)]
    public int EfSearch { get; set; } = 100;
}

public static class EncoderIds
{
    public const string Default = "resnet18-minilm";
    public const string Clip = "clip-vit-base-patch32";
    public static readonly IReadOnlyList<string> All = [Default, Clip];
}
