namespace Dsdc.Training;

/// <summary>
/// The original's random search: 2-5 layers of 16-1024 units (powers of 2), 512-2048 units in all, dropout on 70% of
/// the layers drawn from 0-0.5, relu or leaky_relu with a slope of 0.01-0.3, learning rate in {1,2,5} x 1e-5..1e-3.
/// </summary>
public sealed class RandomSearch(int seed)
{
    private static readonly int[] Units = [16, 32, 64, 128, 256, 512, 1024];
    private static readonly double[] LearningRates = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3];
    private readonly Random _random = new(seed);

    public MlpParameters Next()
    {
        while (true)
        {
            var count = _random.Next(2, 6);
            var units = Enumerable.Range(0, count).Select(_ => Units[_random.Next(Units.Length)]).ToArray();
            var total = units.Sum();
            // Rejection keeps every draw inside the original's bounds; about a third of the draws fit.
            if (total is < 512 or > 2048) continue;
            var layers = units.Select(u =>
            {
                var dropout = _random.NextDouble() < 0.7 ? Math.Round(_random.NextDouble() * 0.5, 2) : 0;
                return _random.Next(2) == 0
                    ? new LayerParameters(u, LayerParameters.Relu, null, dropout)
                    : new LayerParameters(u, LayerParameters.LeakyRelu, Math.Round(0.01 + _random.NextDouble() * 0.29, 3), dropout);
            }).ToList();
            return new MlpParameters(layers, LearningRates[_random.Next(LearningRates.Length)]);
        }
    }
}
