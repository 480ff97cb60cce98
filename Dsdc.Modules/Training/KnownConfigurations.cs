namespace Dsdc.Training;

/// <summary>The original's three best-known configurations (MLP12 reached 90.05% on their RVL-CDIP split).</summary>
public static class KnownConfigurations
{
    public static readonly MlpParameters Mlp12 = new(
        [Leaky(512, 0.4), Leaky(128, 0.3), Leaky(32, 0.2)], 1e-4);

    public static readonly MlpParameters Mlp9 = new(
        [Leaky(256, 0.4), Leaky(128, 0.2), Leaky(128, 0.2), Leaky(64, 0.1), Leaky(64, 0.1)], 1e-4);

    public static readonly MlpParameters Mlp11 = new(
        [new(512, LayerParameters.Relu, null, 0.4), new(128, LayerParameters.Relu, null, 0.3), new(32, LayerParameters.Relu, null, 0.2)], 1e-4);

    public static readonly IReadOnlyList<(string Name, MlpParameters Parameters)> All =
        [("mlp12", Mlp12), ("mlp9", Mlp9), ("mlp11", Mlp11)];

    private static LayerParameters Leaky(int units, double dropout) => new(units, LayerParameters.LeakyRelu, 0.1, dropout);
}
