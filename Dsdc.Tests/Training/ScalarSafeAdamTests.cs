using Dsdc.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsdc.Tests.Training;

/// <summary>The MLPs' optimiser against TorchSharp's own Adam, step for step.</summary>
public sealed class ScalarSafeAdamTests
{
    /// <summary>Two copies of one seeded network; the same batches; after each step the same weights.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-3)]
    public void ItTakesTheStepsOfTorchSharpsAdamWithItsDefaults(double weightDecay)
    {
        random.manual_seed(7);
        using var reference = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 4));
        using var candidate = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 4));
        using (no_grad())
            foreach (var ((_, r), (_, c)) in reference.named_parameters().Zip(candidate.named_parameters()))
                c.copy_(r);
        using var theirs = optim.Adam(reference.parameters(), 0.01, weight_decay: weightDecay);
        using var ours = new ScalarSafeAdam(candidate.parameters(), 0.01, weightDecay: weightDecay);

        for (var step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            var x = randn(16, 12);
            var y = randint(0, 4, [16]);
            theirs.zero_grad();
            nn.functional.cross_entropy(reference.forward(x), y).backward();
            theirs.step();
            ours.ZeroGrad();
            nn.functional.cross_entropy(candidate.forward(x), y).backward();
            ours.Step();

            foreach (var ((name, r), (_, c)) in reference.named_parameters().Zip(candidate.named_parameters()))
            {
                var difference = (r - c).abs().max().item<float>();
                Assert.True(difference < 1e-6, $"step {step + 1}, {name}: {difference}");
            }
        }
    }

    [Fact]
    public void ItRefusesSettingsAdamCannotUse()
    {
        using var layer = nn.Linear(2, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScalarSafeAdam(layer.parameters(), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScalarSafeAdam(layer.parameters(), 0.1, beta1: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScalarSafeAdam(layer.parameters(), 0.1, weightDecay: -0.1));
    }
}
