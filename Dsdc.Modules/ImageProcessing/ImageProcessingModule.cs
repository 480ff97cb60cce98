using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.ImageProcessing;

public static class ImageProcessingModule
{
    /// <summary>Document inspection (formats, limits), PDF rendering, page previews and the 224x224 preprocessing.</summary>
    public static IHostApplicationBuilder AddImageProcessingModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<ImagingOptions>(ImagingOptions.Section);
        builder.Services.AddSingleton<ImageDecoder>();
        builder.Services.AddSingleton<PdfPageRenderer>();
        builder.Services.AddSingleton<PdfPages>();
        builder.Services.AddSingleton<PagePreview>();
        builder.Services.AddSingleton<IDocumentInspector, DocumentInspector>();
        builder.Services.AddSingleton<IImagePreprocessor, ImagePreprocessor>();
        return builder;
    }
}
