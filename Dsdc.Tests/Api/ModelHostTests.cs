using Dsdc.Embedding;
using Dsdc.Inference;
using Dsdc.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Api;

/// <summary>How a request path looks for the champion: at most one load in an interval, and never none at first.</summary>
[Collection(ApiCollection.Name)]
public sealed class ModelHostTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ModelHost NewHost(ILogger<ModelHost>? logger = null) => new(app.Get<ModelRegistry>(), app.Get<OnnxSessionFactory>(),
        app.Get<IDocumentEncoder>(), app.Get<IOptions<EmbeddingOptions>>(), logger ?? NullLogger<ModelHost>.Instance);

    [Fact]
    public async Task AHostThatNeverLoadedLoadsTheChampionOnTheFirstRequest()
    {
        using var host = NewHost();

        Assert.Equal(app.ChampionRunId, await host.ReloadIfDueAsync(TimeSpan.FromMinutes(5), Ct));
        Assert.Equal(app.ChampionRunId, host.Champion?.RunId);
    }

    [Fact]
    public async Task RequestsArrivingTogetherLoadTheChampionOnceAndLaterOnesWithinTheIntervalNotAgain()
    {
        var log = new LoadCounter();
        using var host = NewHost(log);

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => host.ReloadIfDueAsync(TimeSpan.FromMinutes(5), Ct)));
        var later = await host.ReloadIfDueAsync(TimeSpan.FromMinutes(5), Ct);

        // One caller loaded; those that came at the same time waited for its load rather than answer with nothing.
        Assert.Equal(1, log.Loads);
        Assert.All(answers, a => Assert.Equal(app.ChampionRunId, a));
        Assert.Equal(app.ChampionRunId, later);
    }

    [Fact]
    public async Task ARequestWhileTheServerLoadsTheChampionIsAnsweredByTheChampionNotTheZeroShotModel()
    {
        var log = new LoadCounter();
        using var host = NewHost(log);

        // As the server starts: the background reloader's first load is under way when a request looks for the champion.
        var starting = host.ReloadAsync(Ct);
        var request = await host.ReloadIfDueAsync(TimeSpan.FromMinutes(5), Ct);

        Assert.Equal(app.ChampionRunId, request);
        Assert.Equal(app.ChampionRunId, await starting);
        Assert.Equal(1, log.Loads);
    }

    /// <summary>Counts the champion loads by the host's "Serving run" log line.</summary>
    private sealed class LoadCounter : ILogger<ModelHost>
    {
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception).StartsWith("Serving run", StringComparison.Ordinal)) Interlocked.Increment(ref _loads);
        }
    }
}
