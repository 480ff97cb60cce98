using Dsdc.Auth;
using Dsdc.Shared;
using Dsdc.Shared.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference.Api;

/// <summary>The prediction REST API: predict, corrections, similar documents, status, and the model registry.</summary>
public sealed class PredictionApiModule
{
    private PredictionApiModule() { }

    public static void Add(IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<PredictionApiOptions>(PredictionApiOptions.Section);
        builder.Services.AddSingleton<PredictionStore>();
        builder.Services.AddScoped<PredictionService>();
        builder.Services.AddScoped<DocumentUploads>();
        builder.Services.AddSingleton<DocumentSearch>();
        builder.Services.AddSingleton<Review.ReviewQueue>();
        builder.Services.AddSingleton<Review.NewDocumentPredictions>();
        builder.Services.AddHostedService<Review.NewDocumentPredictionsSchedule>();
        // OCR is CPU-bound: beyond a few requests per core, waiting only turns into time-outs. Overload gets a fast
        // 503 with Retry-After instead, which clients and load balancers understand; a request enters once its upload is read.
        builder.Services.AddSingleton<PredictionGate>();
        builder.Services.AddSingleton<UploadBudget>();
        // One limit, Api:MaxUploadBytes: Kestrel (whose own default, 30,000,000 bytes, would otherwise win), the form reader,
        // the API and the classify page all use it.
        builder.Services.AddOptions<Microsoft.AspNetCore.Http.Features.FormOptions>().Configure<IOptions<PredictionApiOptions>>(
            (f, api) => f.MultipartBodyLengthLimit = UploadLimits.RequestBytes(api.Value));
        builder.Services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>().Configure<IOptions<PredictionApiOptions>>(
            (k, api) => k.Limits.MaxRequestBodySize = UploadLimits.RequestBytes(api.Value));
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Prediction");
        api.MapGet("/status", PredictionEndpoints.Status).AllowAnonymous();
        api.MapPost("/predict", PredictionEndpoints.Predict)
            .RequireAuthorization(AuthPolicies.User).DisableAntiforgery().WithMetadata(new UploadEndpoint())
            .Accepts<IFormFile>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/documents", DocumentEndpoints.Upload)
            .RequireAuthorization(AuthPolicies.User).DisableAntiforgery().WithTags("Documents").WithMetadata(new UploadEndpoint(Batch: true))
            .Accepts<IFormFileCollection>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/documents/batches/{batch}", DocumentEndpoints.Batch).RequireAuthorization(AuthPolicies.User).WithTags("Documents");
        api.MapGet("/documents", DocumentEndpoints.List).RequireAuthorization(AuthPolicies.User).WithTags("Documents")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/documents/{id}", DocumentEndpoints.Get).RequireAuthorization(AuthPolicies.User).WithTags("Documents")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/documents/{id}", DocumentEndpoints.Delete).RequireAuthorization(AuthPolicies.ModelAdmin).WithTags("Documents")
            .Produces<DocumentEndpoints.DeletionPending>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/documents/{id}/label", DocumentEndpoints.GetLabel).RequireAuthorization(AuthPolicies.User).WithTags("Documents")
            .Produces(StatusCodes.Status304NotModified).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .AddOpenApiOperationTransformer(LabelVersions.DeclarePreconditions);
        api.MapPost("/documents/{id}/label", PredictionEndpoints.Label).RequireAuthorization(AuthPolicies.User)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .AddOpenApiOperationTransformer(LabelVersions.DeclarePreconditions);
        api.MapGet("/documents/{id}/similar", PredictionEndpoints.Similar).RequireAuthorization(AuthPolicies.User);
        api.MapGet("/review", ReviewEndpoints.Next).RequireAuthorization(AuthPolicies.User).WithTags("Review");

        var models = api.MapGroup("/models").WithTags("Models").RequireAuthorization(AuthPolicies.ModelAdmin);
        models.MapGet("/", ModelEndpoints.List);
        models.MapPost("/{runId:long}/promote", ModelEndpoints.Promote);
        models.MapGet("/{runId:long}/documents", ModelEndpoints.Documents)
            .Produces(StatusCodes.Status200OK, contentType: "text/csv").ProducesProblem(StatusCodes.Status404NotFound);
        models.MapPost("/rollback", ModelEndpoints.Rollback);
        models.MapPost("/reload", ModelEndpoints.Reload);
    }
}

public static class PredictionApiExtensions
{
    public static IHostApplicationBuilder AddPredictionApi(this IHostApplicationBuilder builder)
    {
        PredictionApiModule.Add(builder);
        return builder;
    }

    /// <summary>Needs authentication and authorization in the pipeline before it.</summary>
    public static IEndpointRouteBuilder MapPredictionApi(this IEndpointRouteBuilder app)
    {
        PredictionApiModule.Map(app);
        return app;
    }
}
