using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Embedding;

/// <summary>The region features of a real page, for each region set (<c>Embedding:RegionSet</c>).</summary>
public sealed class RegionEncoderTests
{
    [Fact]
    public void TheBandsAreTheSameFeaturesAsTheirPartOfEveryRegion()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = EmbeddingTestKit.DatasetFile("bootcamp_golden_alimsaleh/15_memo/memo_01413.tif");
        var all = EmbeddingTestKit.Regions;
        using var bands = new RegionEncoder(EmbeddingTestKit.Sessions(), EmbeddingTestKit.Preprocessor(),
            Options.Create(new EmbeddingOptions { RegionSet = "bands" }));

        var every = all.Encode(path, DocumentFormat.Tiff, ct);
        var four = bands.Encode(path, DocumentFormat.Tiff, ct);

        Assert.Equal((11 * 512, 4 * 512), (all.Dimensions, bands.Dimensions));
        Assert.Equal(["top-quarter", "top-half", "bottom-half", "bottom-quarter"], bands.Set.Regions.Select(r => r.Name));
        var expected = bands.Set.Regions.SelectMany(r =>
        {
            var k = PageRegions.All.ToList().IndexOf(r);
            return every[(k * 512)..((k + 1) * 512)];
        }).ToArray();
        Assert.Equal(expected, four);
        // Stored features of one set are never read as the other's.
        Assert.NotEqual(all.Version, bands.Version);
        // The default set's version is the one every installation's stored features carry: they are not recomputed.
        Assert.Equal($"resnet18-1;regions11-448x576-box;{EmbeddingTestKit.Preprocessor().Version}", all.Version);
    }

    [Theory]
    [InlineData("all", true)]
    [InlineData("BANDS", true)]
    [InlineData("quadrants", false)]
    [InlineData("", false)]
    public void AnUnknownRegionSetIsRefusedAtStart(string name, bool valid)
    {
        var validator = new EmbeddingOptionsValidator(EmbeddingTestKit.Paths(Path.GetTempPath()));
        var result = validator.Validate(null, new EmbeddingOptions { RegionSet = name });
        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("known: all, bands", result.FailureMessage);
    }
}

/// <summary>Which trained models a process can serve, given its encoder and region set.</summary>
public sealed class ServableModelTests
{
    private static Dsdc.Training.ModelManifest Manifest(int regionDimensions, string encoderVersion = "1") =>
        new(7, "fused-tvr", Dsdc.Shared.DocumentClasses.Names, EncoderIds.Default, encoderVersion, 896, "input", "probabilities", default,
            new Dsdc.Training.ModelScores(0, 0, 0, [], []), DateTime.UtcNow,
            [new Dsdc.Training.ViewSpec(Dsdc.Training.ViewKinds.Text, "text.onnx", 20000, 1), new Dsdc.Training.ViewSpec(Dsdc.Training.ViewKinds.Regions, "regions.onnx", regionDimensions, 1)]);

    [Fact]
    public void AModelServesOnlyWhereItsEncoderAndRegionFeaturesAreComputed()
    {
        var encoder = EmbeddingTestKit.DefaultEncoder;
        Assert.Null(Manifest(11 * 512).WhyNotServable(encoder, PageRegions.AllRegions));
        Assert.Null(Manifest(4 * 512).WhyNotServable(encoder, PageRegions.Bands));
        Assert.Equal("run 7 reads 5632 region features, but this process computes 2048 (the 'bands' regions, Embedding:RegionSet)",
            Manifest(11 * 512).WhyNotServable(encoder, PageRegions.Bands));
        Assert.StartsWith("run 7 reads 2048 region features, but this process computes 5632 (the 'all' regions",
            Manifest(4 * 512).WhyNotServable(encoder, PageRegions.AllRegions));
        Assert.Equal("run 7 was trained on resnet18-minilm@0 (896 dims), but this process embeds with resnet18-minilm@1 (896 dims)",
            Manifest(11 * 512, encoderVersion: "0").WhyNotServable(encoder, PageRegions.AllRegions));
    }

    [Theory]
    [InlineData("""{"views": [{"view": "text"}, {"view": "regions", "standardize": true}], "approach": "fused-ridge"}""", true)]
    [InlineData("""{"views": [{"view": "text"}, {"view": "vector"}], "approach": "fused-ridge"}""", false)]
    [InlineData("""{"hidden": [512, 256], "dropout": 0.2}""", false)]
    [InlineData("""{"views": ["regions", {"view": 3}], "approach": "views"}""", false)]
    [InlineData("""[1, 2]""", false)]
    public void ARecipeReadsRegionsWhenOneOfItsViewsDoes(string parameters, bool reads) =>
        Assert.Equal(reads, Dsdc.Training.Candidates.ReadsRegions(parameters));
}
