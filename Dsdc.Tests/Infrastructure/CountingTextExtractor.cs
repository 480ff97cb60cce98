using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Infrastructure;

/// <summary>
/// The app's own text extractor, counting its calls per document (the SHA-1 of the file it is given, which is the
/// document id whatever the file's name or folder: an upload being received, raw/, or a dataset file).
/// </summary>
public sealed class CountingTextExtractor(ITextExtractor inner) : ITextExtractor
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public string Processor => inner.Processor;
    public string ProcessorVersion => inner.ProcessorVersion;

    /// <summary>How many times the text of the document with this id was extracted.</summary>
    public int Calls(string documentId) => _calls.GetValueOrDefault(documentId);

    public async Task<ExtractedText> ExtractAsync(string path, DocumentFormat format, CancellationToken ct)
    {
        var id = Convert.ToHexStringLower(SHA1.HashData(await File.ReadAllBytesAsync(path, ct)));
        _calls.AddOrUpdate(id, 1, (_, n) => n + 1);
        return await inner.ExtractAsync(path, format, ct);
    }

    /// <summary>Replaces the registered <see cref="ITextExtractor"/> with a counting wrapper around it.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(ITextExtractor));
        services.Remove(registered);
        services.AddSingleton(sp => new CountingTextExtractor(registered.ImplementationFactory is { } factory
            ? (ITextExtractor)factory(sp)
            : (ITextExtractor)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!)));
        services.AddSingleton<ITextExtractor>(sp => sp.GetRequiredService<CountingTextExtractor>());
    }
}
