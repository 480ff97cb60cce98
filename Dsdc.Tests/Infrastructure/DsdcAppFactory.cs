using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Infrastructure;

/// <summary>The whole app in process, on a database and a data folder of its own.</summary>
public class DsdcAppFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private TestDatabase? _database;

    public TestDatabase Database => _database ?? throw new InvalidOperationException("not initialised");
    public string DataDir { get; } = Directory.CreateTempSubdirectory("dsdc-data-").FullName;
    public string ModelsDir { get; } = Directory.CreateTempSubdirectory("dsdc-models-").FullName;

    /// <summary>The JWT signing key of this app (<c>Auth:SigningKey</c>), random per factory.</summary>
    public string SigningKey { get; } = NewSigningKey();

    /// <summary>A random <c>Auth:SigningKey</c> for an app under test (the app refuses to start without one).</summary>
    public static string NewSigningKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));

    /// <summary>The client address TestServer reports (it has none of its own); loopback by default.</summary>
    public IPAddress RemoteAddress { get; set; } = IPAddress.Loopback;

    public virtual async ValueTask InitializeAsync() => _database = await TestDatabase.CreateAsync();

    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Dsdc", Database.ConnectionString);
        builder.UseSetting("Dsdc:DataDir", DataDir);
        builder.UseSetting("Dsdc:ModelsDir", ModelsDir);
        builder.UseSetting("Auth:SigningKey", SigningKey);
        // The recurring prediction of unlabelled documents would add predictions behind the tests' backs wherever a job
        // server runs; its tests call it directly.
        builder.UseSetting("Inference:PredictNewDocuments", "false");
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new RemoteAddressFilter(this)));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        foreach (var dir in new[] { DataDir, ModelsDir })
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed class RemoteAddressFilter(DsdcAppFactory factory) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress ??= factory.RemoteAddress;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
