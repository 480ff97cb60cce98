using Dsdc.Embedding;
using Dsdc.Training;
using Dsdc.ImageProcessing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference;

/// <summary>
/// Holds the served champion and swaps it atomically: a new model (its views' sessions) is loaded beside the old one, published with one
/// exchange, and the old one is disposed only after the calls that leased it have finished. A failed load keeps the old model.
/// </summary>
public sealed partial class ModelHost(ModelRegistry registry, OnnxSessionFactory sessions, IDocumentEncoder encoder,
    IOptions<EmbeddingOptions> embedding, ILogger<ModelHost> logger)
    : IChampionObserver, IDisposable
{
    private readonly RegionSet _regions = RegionEncoder.SetOf(embedding.Value);
    private readonly SemaphoreSlim _reload = new(1, 1);
    private ServedModel? _current;
    private const long NeverLoaded = long.MinValue;
    private long _lastReloadTicks = NeverLoaded;

    /// <summary>Completed once this process's first load of the champion has ended, loaded or not.</summary>
    private readonly TaskCompletionSource _firstLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The longest a request waits for the first load of the champion as the server starts.</summary>
    internal static readonly TimeSpan FirstLoadWait = TimeSpan.FromSeconds(30);

    public long? RunId => Volatile.Read(ref _current)?.Champion.RunId;

    /// <summary>The served champion (run id and manifest read together), or null.</summary>
    public ChampionModel? Champion => Volatile.Read(ref _current)?.Champion;

    /// <summary>Whether the served model reads the page's region features (then a prediction computes them).</summary>
    public bool ReadsRegions => Volatile.Read(ref _current)?.Model.ViewNames.Contains(ViewKinds.Regions) == true;

    /// <summary>The served champion's manifest, or null.</summary>
    public ModelManifest? Manifest => Volatile.Read(ref _current)?.Champion.Manifest;

    /// <summary>Why the registry's champion does not serve (its files are missing, it was trained with another encoder...),
    /// from the last load; null when it serves or there is none.</summary>
    public string? LoadFailure { get; private set; }

    internal ServedModel Lease() => TryLease() ?? throw NoModel(LoadFailure);

    /// <summary>The served model with one more reference (release it when done), or null when none is loaded.</summary>
    internal ServedModel? TryLease()
    {
        while (true)
        {
            var model = Volatile.Read(ref _current);
            if (model is null || model.TryAcquire()) return model;
            // Retired between the read and the lease: the next read sees its successor.
        }
    }

    /// <param name="loadFailure">why the promoted champion cannot be loaded, when one is promoted.</param>
    internal static NoModelException NoModel(string? loadFailure) => new(loadFailure is null
        ? "No model is promoted yet: train one (`train`, or wait for the training job) and promote it."
        : $"{loadFailure.TrimEnd('.')}. The zero-shot model is switched off (Inference:ZeroShot), so nothing is classified until a champion loads.");

    public Task ChampionChangedAsync(long? runId, CancellationToken ct) => ReloadAsync(ct);

    /// <summary>
    /// As <see cref="ReloadAsync"/>, unless a load was tried less than <paramref name="interval"/> ago: then the served
    /// run id as it is, so that a request path can look for a champion promoted elsewhere without loading (or failing
    /// to load) it once per request. Until this process's first load has ended (the server is starting), waits for it
    /// (at most <see cref="FirstLoadWait"/>): a request that comes while the champion first loads is answered by the
    /// champion, not by the zero-shot model. Later, a champion that cannot be loaded keeps nobody waiting.
    /// </summary>
    public Task<long?> ReloadIfDueAsync(TimeSpan interval, CancellationToken ct)
    {
        var last = Interlocked.Read(ref _lastReloadTicks);
        var now = Environment.TickCount64;
        if (last != NeverLoaded && now - last < (long)interval.TotalMilliseconds) return ServedOrLoadingAsync(ct);
        // One caller claims the load; the others answer with what serves meanwhile instead of queueing loads of their own.
        return Interlocked.CompareExchange(ref _lastReloadTicks, now, last) == last ? ReloadAsync(ct) : ServedOrLoadingAsync(ct);
    }

    /// <summary>The served run id; while none serves and the first load has not ended, once it has.</summary>
    private async Task<long?> ServedOrLoadingAsync(CancellationToken ct)
    {
        await WhenFirstLoadedAsync(ct);
        return RunId;
    }

    /// <summary>Once this process's first load of the champion has ended (at most <see cref="FirstLoadWait"/>).</summary>
    public async Task WhenFirstLoadedAsync(CancellationToken ct)
    {
        if (RunId is not null || _firstLoad.Task.IsCompleted) return;
        try
        {
            await _firstLoad.Task.WaitAsync(FirstLoadWait, ct);
        }
        catch (TimeoutException)
        {
            // A first load that takes this long (a slow database): what serves meanwhile answers.
        }
    }

    public async Task<long?> ReloadAsync(CancellationToken ct)
    {
        await _reload.WaitAsync(ct);
        try
        {
            Interlocked.Exchange(ref _lastReloadTicks, Environment.TickCount64);
            var runId = await LoadChampionAsync(ct);
            LoadFailure = null;
            return runId;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not System.Data.Common.DbException and not TimeoutException)
        {
            // Why the champion's files cannot serve, said to anyone who asks for the status: without the server's paths
            // (the exception, logged by the reloader, keeps them). A database that cannot be read says nothing of the
            // champion, and its message names the database's host: it leaves the last failure as it was.
            LoadFailure = registry.WithoutServerPaths(ex.Message);
            throw;
        }
        finally
        {
            // The interval runs from the end of a load: one that takes longer than the interval is not started again at once.
            Interlocked.Exchange(ref _lastReloadTicks, Environment.TickCount64);
            _reload.Release();
            _firstLoad.TrySetResult();
        }
    }

    private async Task<long?> LoadChampionAsync(CancellationToken ct)
    {
        var champion = await registry.ChampionAsync(ct);
        if (champion?.RunId == RunId) return RunId;
        if (champion is null)
        {
            Swap(null);
            return null;
        }
        var m = champion.Manifest;
        if (m.WhyNotServable(encoder, _regions) is { } why) throw new InvalidOperationException(why);
        // Every view's graph and feature file load before the swap: a broken artifact keeps the old model serving.
        var model = await Task.Run(() => new ViewEnsembleRunner(champion, sessions.Create), ct);
        Swap(new ServedModel(model, champion));
        LogServing(champion.RunId, m.Name, m.Metrics.Accuracy);
        return champion.RunId;
    }

    private void Swap(ServedModel? next) => Interlocked.Exchange(ref _current, next)?.Release();

    public void Dispose()
    {
        Swap(null);
        _reload.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving run {RunId} ({Name}, test accuracy {Accuracy:P1})")]
    private partial void LogServing(long runId, string name, double accuracy);
}
