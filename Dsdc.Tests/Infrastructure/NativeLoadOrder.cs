using System.Runtime.CompilerServices;
using Dsdc.Ocr.Native;

namespace Dsdc.Tests.Infrastructure;

/// <summary>
/// Loads libtesseract before any test can load libtorch, in the order the app loads them: its options validation starts
/// a Tesseract engine at start, before any training. Tesseract's OpenMP calls bind to whichever libgomp the process loaded
/// first; when that is libtorch's own copy, which never saw the one-thread limit, every engine spawns a thread team per
/// page and OCR runs 2-2.5x slower, so a test that waits for OCR would pass or time out depending on which test class
/// happened to run first.
/// </summary>
internal static class NativeLoadOrder
{
#pragma warning disable CA2255 // a test assembly's one-time native set-up, before any test runs
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void LoadTesseractFirst()
    {
        try
        {
            NativeRuntime.EnsureTesseractLoaded();
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
        {
            // Tesseract is missing or unusable: the OCR tests fail and say why.
        }
    }
}
