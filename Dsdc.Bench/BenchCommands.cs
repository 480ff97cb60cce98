using Dsdc.Embedding;
using Dsdc.Inference;
using Dsdc.Inference.Api;
using Dsdc.Shared.Cli;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Bench;

public static class BenchCommands
{
    /// <summary>The experiment and benchmark commands: <c>crossvalidate</c>, <c>learningcurve</c>, <c>reviewprobe</c>, <c>zeroshot</c>,
    /// <c>bench-predict</c>, <c>bench-embedding</c>, <c>finetune</c>, <c>imageprobe</c>, <c>orientprobe</c>, <c>extraviews</c>,
    /// <c>stackprobe</c>, <c>selftrain</c>, <c>activelearning</c>, <c>augprobe</c>, <c>bench-train</c>, <c>bench-ocr</c>, <c>bench-pdf</c>, <c>bench-review</c>.</summary>
    public static IHostApplicationBuilder AddBenchCommands(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ICliCommand, CrossValidateCommand>();
        builder.Services.AddSingleton<ICliCommand, LearningCurveCommand>();
        builder.Services.AddSingleton<ICliCommand, CrossSourceCommand>();
        builder.Services.AddSingleton<ICliCommand, ReviewProbeCommand>();
        builder.Services.AddSingleton<ICliCommand, ZeroShotCommand>();
        builder.Services.AddSingleton<ICliCommand, PredictBenchmarkCommand>();
        builder.Services.AddSingleton<ICliCommand, EmbeddingBenchmarkCommand>();
        builder.Services.AddSingleton<ICliCommand, FineTuneCommand>();
        builder.Services.AddSingleton<ICliCommand, ImageProbeCommand>();
        builder.Services.AddSingleton<ICliCommand, OrientationProbeCommand>();
        builder.Services.AddSingleton<ICliCommand, ExtraViewsCommand>();
        builder.Services.AddSingleton<ICliCommand, StackProbeCommand>();
        builder.Services.AddSingleton<ICliCommand, SelfTrainingCommand>();
        builder.Services.AddSingleton<ICliCommand, ActiveLearningCommand>();
        builder.Services.AddSingleton<ICliCommand, AugmentationProbeCommand>();
        builder.Services.AddSingleton<ICliCommand, NormalisationProbeCommand>();
        builder.Services.AddSingleton<ICliCommand, TrainingCostCommand>();
        builder.Services.AddSingleton<ICliCommand, Dsdc.Ocr.OcrScalingBenchmarkCommand>();
        builder.Services.AddSingleton<ICliCommand, Dsdc.ImageProcessing.PdfReadingBenchmarkCommand>();
        builder.Services.AddSingleton<ICliCommand, Dsdc.Inference.Review.ReviewQueueBenchmarkCommand>();
        return builder;
    }
}
