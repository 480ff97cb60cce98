using TorchSharp;
using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>
/// Adam as <c>torch.optim.Adam</c> computes it (L2 weight decay added to the gradient, bias-corrected moments, the same
/// operations in the same order), with every number that enters LibTorch held in a <see cref="Scalar"/> that stays
/// referenced until the step ends. TorchSharp's own optimiser passes numbers as implicit, finalizable Scalars
/// (<c>exp_avg.mul_(beta1)</c>, <c>add_(grad, alpha: 1 - beta1)</c>...) that nothing keeps alive during the native call,
/// so a garbage collection at the wrong moment frees one mid-call ("Unknown scalar type"); over the thousands of steps
/// of an MLP search that is a crash waiting to happen.
/// </summary>
public sealed class ScalarSafeAdam : IDisposable
{
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly double _learningRate, _beta1, _beta2, _eps, _weightDecay;
    private long _step;

    public ScalarSafeAdam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0)
    {
        if (learningRate < 0) throw new ArgumentOutOfRangeException(nameof(learningRate));
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1));
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2));
        if (weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay));
        _parameters = parameters.ToArray();
        _firstMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _secondMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        (_learningRate, _beta1, _beta2, _eps, _weightDecay) = (learningRate, beta1, beta2, eps, weightDecay);
    }

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var p in _parameters)
            p.grad?.zero_();
    }

    public void Step()
    {
        _step++;
        var biasCorrection1 = 1 - Math.Pow(_beta1, _step);
        var biasCorrection2 = 1 - Math.Pow(_beta2, _step);
        // Declared with using: each stays referenced (by its Dispose at the end of the method) through every native call.
        using Scalar beta1 = _beta1.ToScalar(), keep1 = (1 - _beta1).ToScalar(), beta2 = _beta2.ToScalar(), keep2 = (1 - _beta2).ToScalar(),
            decay = _weightDecay.ToScalar(), root2 = Math.Sqrt(biasCorrection2).ToScalar(), eps = _eps.ToScalar(),
            stepSize = (-_learningRate / biasCorrection1).ToScalar();
        using var noGrad = no_grad();
        for (var i = 0; i < _parameters.Length; i++)
        {
            using var scope = NewDisposeScope();
            var p = _parameters[i];
            var grad = p.grad;
            if (grad is null) continue;
            if (_weightDecay != 0) grad = grad.add(p, decay);
            _firstMoments[i].mul_(beta1).add_(grad, keep1);
            _secondMoments[i].mul_(beta2).addcmul_(grad, grad.conj(), keep2);
            var denominator = _secondMoments[i].sqrt().div_(root2).add_(eps);
            p.addcdiv_(_firstMoments[i], denominator, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _firstMoments.Concat(_secondMoments)) t.Dispose();
    }
}
