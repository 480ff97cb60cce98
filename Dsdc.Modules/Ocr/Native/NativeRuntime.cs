using System.Runtime.InteropServices;

namespace Dsdc.Ocr.Native;

/// <summary>
/// Loads libtesseract with OpenMP limited to one thread. Debian builds Tesseract with OpenMP; each engine would
/// otherwise spawn a team per page, and engines running side by side (one per core) then fight for the cores: measured
/// 2-2.5x slower per page. libgomp reads <c>OMP_THREAD_LIMIT</c> from the C environment once, when it loads (as a
/// dependency of libtesseract), and <see cref="Environment.SetEnvironmentVariable(string, string)"/> never reaches that
/// environment: so libc's setenv, before the first Tesseract call. The previous value comes back afterwards, so that
/// other OpenMP users loaded later (libtorch's own libgomp copy) keep their threads.
/// </summary>
internal static partial class NativeRuntime
{
    private const string OmpThreadLimit = "OMP_THREAD_LIMIT";
    private static readonly Lock Gate = new();
    private static bool _loaded;

    /// <summary>Idempotent; returns the OpenMP thread limit libtesseract's libgomp runs with (1 unless it was loaded before).</summary>
    public static int EnsureTesseractLoaded()
    {
        lock (Gate)
        {
            if (!_loaded)
            {
                var previous = Marshal.PtrToStringUTF8(getenv(OmpThreadLimit));
                setenv(OmpThreadLimit, "1", 1);
                try
                {
                    // Throws DllNotFoundException with the loader's message when the package is missing.
                    NativeLibrary.Load(TesseractApi.Lib);
                }
                finally
                {
                    if (previous is null) unsetenv(OmpThreadLimit);
                    else setenv(OmpThreadLimit, previous, 1);
                }
                _loaded = true;
            }
            return omp_get_thread_limit();
        }
    }

    /// <summary>A variable as native code sees it (the managed environment is a copy taken at start).</summary>
    public static string? NativeEnvironmentVariable(string name) => Marshal.PtrToStringUTF8(getenv(name));

    public static string TesseractVersion()
    {
        EnsureTesseractLoaded();
        // A static string inside the library: not to be freed.
        return Marshal.PtrToStringUTF8(TesseractApi.TessVersion()) ?? "unknown";
    }

    [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unsetenv(string name);

    [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getenv(string name);

    [LibraryImport("libgomp.so.1")]
    private static partial int omp_get_thread_limit();
}
