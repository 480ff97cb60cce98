using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Tests.ImageProcessing;

/// <summary>The ImageProcessing and Ocr modules as the app registers them, in a bare host with the given settings.</summary>
public sealed class ImagingServices : IDisposable
{
    private readonly IHost _host;

    public ImagingServices(IDictionary<string, string?>? settings = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.AddImageProcessingModule();
        builder.AddOcrModule();
        _host = builder.Build();
    }

    public IDocumentInspector Inspector => Get<IDocumentInspector>();
    public IImagePreprocessor Preprocessor => Get<IImagePreprocessor>();
    public ITextExtractor TextExtractor => Get<ITextExtractor>();

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public void Dispose() => _host.Dispose();
}
