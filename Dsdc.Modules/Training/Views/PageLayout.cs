namespace Dsdc.Training;

/// <summary>
/// A coarse picture of the page: the processed 224x224 RGB image as a 32x32 grid of ink density (1 = black, 0 = white),
/// averaged over 7x7 blocks. Letters, memos, forms and tables differ in where the ink sits more than in what ImageNet
/// features see; the grid keeps that and nothing else.
/// </summary>
public static class PageLayout
{
    public const int Grid = 32;
    public const int Dimensions = Grid * Grid;
    private const int Size = 224, Block = Size / Grid;

    public static float[] FromRgb(byte[] rgb)
    {
        if (rgb.Length != Size * Size * 3) throw new ArgumentException($"expected {Size}x{Size} RGB bytes, got {rgb.Length}", nameof(rgb));
        var grid = new float[Dimensions];
        for (var y = 0; y < Size; y++)
        for (var x = 0; x < Size; x++)
        {
            var p = (y * Size + x) * 3;
            // ITU-R BT.601 luma, as Leptonica's greyscale conversion weighs the channels.
            var grey = 0.299f * rgb[p] + 0.587f * rgb[p + 1] + 0.114f * rgb[p + 2];
            grid[y / Block * Grid + x / Block] += 1f - grey / 255f;
        }
        for (var i = 0; i < grid.Length; i++) grid[i] /= Block * Block;
        return grid;
    }
}
