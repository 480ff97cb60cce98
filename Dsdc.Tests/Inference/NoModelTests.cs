using Dsdc.Inference;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Inference;

public sealed class NoModelTests
{
    [Fact]
    public async Task WithoutChampionClassifyingThrowsNoModel()
    {
        await using var app = new NoModelApp();
        await app.InitializeAsync();
        var classifier = app.Services.GetRequiredService<IDocumentClassifier>();
        Assert.Null(await classifier.ReloadAsync(TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<NoModelException>(() => classifier.ClassifyEmbeddingAsync(new float[896], TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<NoModelException>(() => classifier.ClassifyFileAsync(Fixtures.Labelled()[0].Path, TestContext.Current.CancellationToken));
    }

    private sealed class NoModelApp : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false", ["Inference:ReloadIntervalSeconds"] = "0",
            ["Inference:ZeroShot"] = "false",
        };
    }
}
