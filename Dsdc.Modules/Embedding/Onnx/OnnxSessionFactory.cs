using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Dsdc.Embedding;

/// <summary>
/// Creates the ONNX Runtime sessions of the encoders with one policy: the CUDA provider when it is wanted and usable,
/// otherwise the CPU, decided once per process and logged in one line. "Usable" is tried, not assumed: a CUDA session
/// runs one inference before it is handed out, since creating it only copies the weights to the device, and a device
/// without memory to spare, or without kernels for its architecture, fails at the first run instead.
/// </summary>
public sealed class OnnxSessionFactory(IOptions<EmbeddingOptions> options, ILogger<OnnxSessionFactory> logger)
{
    private readonly Lock _gate = new();
    private bool? _cuda;

    /// <summary>True once a session runs on CUDA; false when the CPU is in use; null before the first session.</summary>
    public bool? UsesCuda => _cuda;

    public InferenceSession Create(string modelPath)
    {
        // A missing model is no reason to give up on CUDA: said as what it is.
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"The ONNX model {modelPath} is missing.", modelPath);
        lock (_gate)
        {
            if (_cuda is not false && options.Value.UseCuda)
            {
                // ONNX Runtime would also print its own multi-line error when the CUDA libraries are missing: quiet it
                // during the attempt so that the operator sees one line, ours.
                var env = OrtEnv.Instance();
                var level = env.EnvLogLevel;
                env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
                try
                {
                    using var cudaOptions = Options(cuda: true);
                    var session = new InferenceSession(modelPath, cudaOptions);
                    try
                    {
                        WarmUp(session);
                    }
                    catch
                    {
                        session.Dispose();
                        throw;
                    }
                    if (_cuda is null)
                        logger.LogInformation("ONNX Runtime runs embeddings on CUDA device {Device}", options.Value.CudaDeviceId);
                    _cuda = true;
                    return session;
                }
                // Without CUDA 13 + cuDNN 9 the provider fails to load its libraries; without a device, session creation fails.
                catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
                {
                    _cuda = false;
                    logger.LogWarning("ONNX Runtime CUDA provider unavailable, embeddings run on the CPU with {Threads} threads: {Reason}",
                        options.Value.IntraOpThreads, FirstLine(ex.Message));
                }
                finally
                {
                    env.EnvLogLevel = level;
                }
            }
            else if (_cuda is null)
            {
                _cuda = false;
                logger.LogInformation("ONNX Runtime runs embeddings on the CPU with {Threads} threads (Embedding:UseCuda is false)",
                    options.Value.IntraOpThreads);
            }
            // The session keeps its own copy of the options.
            using var cpuOptions = Options(cuda: false);
            return new InferenceSession(modelPath, cpuOptions);
        }
    }

    private SessionOptions Options(bool cuda)
    {
        var o = new SessionOptions
        {
            IntraOpNumThreads = options.Value.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        // Idle worker threads would otherwise spin and steal the cores OCR is using at the same time.
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (cuda)
        {
            try
            {
                // Full float32 arithmetic and a fixed convolution algorithm: ONNX Runtime's CUDA defaults (TF32 matrix
                // products, an exhaustive algorithm search) give results that depend on the batch's shape and the process,
                // up to ~1e-3 apart, and a document's stored vector (a batch of the embedding job) must be the one a live
                // prediction computes (a batch of one) within the 1e-4 the served model is held to.
                using var cudaProvider = new OrtCUDAProviderOptions();
                cudaProvider.UpdateOptions(new Dictionary<string, string>
                {
                    ["device_id"] = options.Value.CudaDeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["use_tf32"] = "0",
                    ["cudnn_conv_algo_search"] = "DEFAULT",
                });
                o.AppendExecutionProvider_CUDA(cudaProvider);
            }
            catch
            {
                o.Dispose();
                throw;
            }
        }
        return o;
    }

    /// <summary>
    /// One inference on zeros (each symbolic dimension taken as 1): what fails on a device that cannot run the model.
    /// A model with an input this cannot make up (strings, maps) is not tried.
    /// </summary>
    internal static void WarmUp(InferenceSession session)
    {
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var (name, meta) in session.InputMetadata)
            {
                if (!meta.IsTensor) return;
                var shape = meta.Dimensions.Select(d => d < 0 ? 1L : d).ToArray();
                var count = checked((int)shape.Aggregate(1L, (a, b) => a * b));
                OrtValue? value = meta.ElementDataType switch
                {
                    TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(new float[count], shape),
                    TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(new long[count], shape),
                    TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(new int[count], shape),
                    _ => null,
                };
                if (value is null) return;
                names.Add(name);
                values.Add(value);
            }
            using var run = new RunOptions();
            using var outputs = session.Run(run, names, values, session.OutputNames);
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
