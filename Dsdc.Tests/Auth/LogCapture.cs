using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Dsdc.Tests.Auth;

/// <summary>
/// Keeps every log event of an app under test (Serilog reads sinks from the services), as rendered text. The host sets
/// Serilog's static logger, which every app in this process then shares: tests that read the log belong to
/// <see cref="LogCollection"/>, which runs alone.
/// </summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public void Emit(LogEvent logEvent)
    {
        var properties = string.Join(" ", logEvent.Properties.Select(p => $"{p.Key}={p.Value}"));
        _lines.Enqueue($"{logEvent.Level} {logEvent.RenderMessage()} | {properties} {logEvent.Exception}");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LogCollection
{
    public const string Name = "Tests that read the app's log";
}
