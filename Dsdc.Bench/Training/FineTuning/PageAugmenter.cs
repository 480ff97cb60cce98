using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dsdc.Training.FineTuning;

/// <summary>
/// Document augmentations of a batch of page images (planar RGB 0-255, [N, 3, H, W]): a small rotation, shear, scale
/// and shift (a crop, the uncovered border white as paper), contrast and brightness, binarisation at a random
/// threshold, and scanner noise. Seeded, so a run is reproducible.
/// </summary>
public sealed class PageAugmenter(int seed)
{
    private readonly Random _random = new(seed);
    private readonly Generator _noise = new((ulong)seed);

    public Tensor Apply(Tensor pages)
    {
        using var scope = NewDisposeScope();
        var n = (int)pages.shape[0];
        var theta = new float[n * 6];
        var contrast = new float[n];
        var brightness = new float[n];
        var threshold = new float[n];
        var noise = new float[n];
        for (var i = 0; i < n; i++)
        {
            var angle = Uniform(-3, 3) * Math.PI / 180;
            var shear = Uniform(-0.06, 0.06);
            var scale = Uniform(0.9, 1.1);
            var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
            // Output -> input coordinates (affine_grid's convention): rotation x shear, divided by the zoom, plus a shift.
            theta[i * 6 + 0] = (float)(cos / scale);
            theta[i * 6 + 1] = (float)((-sin + shear * cos) / scale);
            theta[i * 6 + 2] = (float)Uniform(-0.06, 0.06);
            theta[i * 6 + 3] = (float)(sin / scale);
            theta[i * 6 + 4] = (float)((cos + shear * sin) / scale);
            theta[i * 6 + 5] = (float)Uniform(-0.06, 0.06);
            contrast[i] = (float)Uniform(0.75, 1.25);
            brightness[i] = (float)Uniform(-25, 25);
            threshold[i] = _random.NextDouble() < 0.25 ? (float)Uniform(110, 200) : -1;
            noise[i] = (float)Uniform(0, 10);
        }
        var grid = functional.affine_grid(tensor(theta, [n, 2, 3]), [n, 3, pages.shape[2], pages.shape[3]], align_corners: false);
        // Sample the ink (255 - value) so that what comes from outside the page is 0 ink: white paper.
        var ink = functional.grid_sample(255 - pages, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        var x = 255 - ink;
        x = (x - 128) * tensor(contrast).view(n, 1, 1, 1) + 128 + tensor(brightness).view(n, 1, 1, 1);
        var t = tensor(threshold).view(n, 1, 1, 1);
        var gray = x.mean([1L], keepdim: true);
        var binary = where(gray > t, 255f, 0f).expand_as(x);
        x = where(t >= 0, binary, x);
        x = x + randn(x.shape, generator: _noise) * tensor(noise).view(n, 1, 1, 1);
        return x.clamp(0, 255).MoveToOuterDisposeScope();
    }

    private double Uniform(double low, double high) => low + (high - low) * _random.NextDouble();
}
