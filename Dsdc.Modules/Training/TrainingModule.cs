using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Training;

public static class TrainingModule
{
    /// <summary>
    /// Training (TorchSharp, only inside the training job and the CLI), the run store, the model registry, the
    /// recurring training job and the <c>train</c> and <c>models</c> commands.
    /// </summary>
    public static IHostApplicationBuilder AddTrainingModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TrainingOptions>(TrainingOptions.Section);
        builder.Services.AddSingleton<TrainingStore>();
        builder.Services.AddSingleton<TrainingDataLoader>();
        builder.Services.AddSingleton<PageInputsLoader>();
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<TrainingService>();
        builder.Services.AddTransient<TrainingJob>();
        builder.Services.AddHostedService<TrainingSchedule>();
        builder.Services.AddSingleton<ICliCommand, TrainCommand>();
        builder.Services.AddSingleton<ICliCommand, ModelsCommand>();
        return builder;
    }
}
