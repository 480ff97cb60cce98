using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Dsdc.Shared;
using Dsdc.Shared.Cli;

namespace Dsdc.Ingestion;

public static class IngestionModule
{
    public static IHostApplicationBuilder AddIngestionModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<IngestionOptions>(IngestionOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DocumentStore>();
        builder.Services.AddSingleton<DocumentDeletion>();
        builder.Services.AddSingleton<UploadRetention>();
        IngestionMetrics.PublishDeletions();
        builder.Services.AddSingleton<InboxIngestor>();
        builder.Services.AddSingleton<DocumentIntake>();
        builder.Services.AddSingleton<IngestionQueries>();
        builder.Services.AddSingleton<ICliCommand, ImportCommand>();
        builder.Services.AddSingleton<ICliCommand, DocumentsCommand>();
        return builder;
    }
}
