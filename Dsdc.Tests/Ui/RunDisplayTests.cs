using Dsdc.Web.Ui;

namespace Dsdc.Tests.Ui;

/// <summary>How runs read on the pages: training time, approach and parameters (no host needed).</summary>
public sealed class RunDisplayTests
{
    [Theory]
    [InlineData(null, "–")]
    [InlineData(420L, "0.4 s")]
    [InlineData(12_345L, "12.3 s")]
    [InlineData(245_000L, "4 min 05 s")]
    [InlineData(3_720_000L, "1 h 02 min")]
    public void TrainingTimesUnderAMinuteAreNotShownAsZero(long? milliseconds, string expected) =>
        Assert.Equal(expected, RunDisplay.Duration(milliseconds));

    [Fact]
    public void ParametersBecomeRowsAndTheApproachIsNamed()
    {
        const string json = """{"approach":"fused-ridge","views":[{"view":"text","alpha":1.5},{"view":"vector","alpha":10}],"stack":true}""";

        var rows = RunDisplay.Parameters(json);

        Assert.Contains(("approach", "fused-ridge"), rows);
        Assert.Contains(("views[1].view", "text"), rows);
        Assert.Contains(("views[2].alpha", "10"), rows);
        Assert.Contains(("stack", "true"), rows);
        Assert.Equal("ridge per view, stacked", RunDisplay.Approach(json));
        Assert.Equal("MLP on the embedding", RunDisplay.Approach("""{"layers":[512,128],"learning_rate":0.0001}"""));
        Assert.Equal([("layers", "512, 128"), ("learning_rate", "0.0001")], RunDisplay.Parameters("""{"layers":[512,128],"learning_rate":0.0001}"""));
    }
}
