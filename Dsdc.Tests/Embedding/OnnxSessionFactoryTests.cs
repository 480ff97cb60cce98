using Dsdc.Embedding;
using Microsoft.Extensions.Logging;

namespace Dsdc.Tests.Embedding;

public sealed class OnnxSessionFactoryTests
{
    [Fact]
    public void ProviderChoiceIsLoggedOnceAndSessionsWorkEitherWay()
    {
        var logger = new ListLogger();
        var sessions = EmbeddingTestKit.Sessions(useCuda: true, logger);
        var folder = Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18");

        using var first = sessions.Create(Path.Combine(folder, "ResNetPreprocess.onnx"));
        using var second = sessions.Create(Path.Combine(folder, "ResNetPreprocess.onnx"));

        Assert.NotNull(sessions.UsesCuda);
        var line = Assert.Single(logger.Lines);
        Assert.Contains(sessions.UsesCuda == true ? "CUDA device" : "CUDA provider unavailable, embeddings run on the CPU", line);
    }

    /// <summary>The first inference a CUDA session runs before it is handed out works on every bundled model (here on the
    /// CPU: the same inputs made up from each model's own input description).</summary>
    [Theory]
    [InlineData("resnet18/ResNetPreprocess.onnx")]
    [InlineData("resnet18/ResNet18.onnx")]
    [InlineData("all-MiniLM-L6-v2/model.onnx")]
    public void TheFirstInferenceRunsOnEveryBundledModel(string model)
    {
        var sessions = EmbeddingTestKit.Sessions(useCuda: false, new ListLogger());
        using var session = sessions.Create(Path.Combine(EncoderCatalog.BundledModelsDir, model));

        OnnxSessionFactory.WarmUp(session);
    }

    [Fact]
    public void AMissingModelIsSaidAsSuchAndLeavesTheProviderChoiceAlone()
    {
        var logger = new ListLogger();
        var sessions = EmbeddingTestKit.Sessions(useCuda: true, logger);

        Assert.Throws<FileNotFoundException>(() => sessions.Create(Path.Combine(EncoderCatalog.BundledModelsDir, "missing.onnx")));

        Assert.Null(sessions.UsesCuda);
        Assert.Empty(logger.Lines);
    }

    private sealed class ListLogger : ILogger<OnnxSessionFactory>
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
