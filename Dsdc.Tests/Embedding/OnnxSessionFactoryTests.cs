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

    private sealed class ListLogger : ILogger<OnnxSessionFactory>
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
