using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>Where TorchSharp trains: CUDA when wanted and present, else the CPU.</summary>
internal static class TorchDevice
{
    private static readonly Lock Gate = new();
    private static bool _threadsSet;

    public static Device Choose(bool useCuda, int threads)
    {
        lock (Gate)
        {
            // set_num_threads may only be called once before parallel work starts, or libtorch warns and ignores it.
            if (!_threadsSet)
            {
                set_num_threads(threads > 0 ? threads : Environment.ProcessorCount);
                _threadsSet = true;
            }
        }
        return useCuda && cuda.is_available() ? CUDA : CPU;
    }
}
