using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Inference;

public static class InferenceModule
{
    /// <summary>The champion served by ONNX Runtime with hot reload, <see cref="IDocumentClassifier"/>, and the
    /// <c>predict</c> and <c>evaluate</c> commands.</summary>
    public static IHostApplicationBuilder AddInferenceModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<InferenceOptions>(InferenceOptions.Section);
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddSingleton<IChampionObserver>(sp => sp.GetRequiredService<ModelHost>());
        builder.Services.AddSingleton<ZeroShotServing>();
        builder.Services.AddSingleton<LabelledClasses>();
        builder.Services.AddSingleton<IDocumentClassifier, DocumentClassifier>();
        builder.Services.AddHostedService<ModelReloader>();
        builder.Services.AddSingleton<ICliCommand, PredictCommand>();
        builder.Services.AddSingleton<ICliCommand, EvaluateCommand>();
        return builder;
    }
}
