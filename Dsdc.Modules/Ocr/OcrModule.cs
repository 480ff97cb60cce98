using Dsdc.Ocr.Native;
using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Ocr;

public static class OcrModule
{
    /// <summary>Text extraction (Tesseract OCR, PDF text layers). Needs <c>AddImageProcessingModule</c> for decoding.</summary>
    public static IHostApplicationBuilder AddOcrModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<OcrOptions>(OcrOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<OcrOptions>, TesseractAvailableCheck>();
        builder.Services.AddSingleton<TesseractEnginePool>();
        builder.Services.AddSingleton<ITextExtractor, TesseractTextExtractor>();
        return builder;
    }

    /// <summary>
    /// Starts one engine with the configured languages when the options are validated (at start, for the server and for
    /// every CLI command), so a missing libtesseract or traineddata stops the app with the key to fix, not the first OCR job.
    /// </summary>
    private sealed class TesseractAvailableCheck : IValidateOptions<OcrOptions>
    {
        public ValidateOptionsResult Validate(string? name, OcrOptions options)
        {
            try
            {
                using var engine = TesseractEngine.Create(options);
                return ValidateOptionsResult.Success;
            }
            catch (DllNotFoundException ex)
            {
                return ValidateOptionsResult.Fail(
                    $"{OcrOptions.Section}: Tesseract 5 is not installed ({TesseractApi.Lib}: {ex.Message}); Debian: apt-get install libtesseract5 tesseract-ocr-eng");
            }
            catch (OcrSetupException ex)
            {
                return ValidateOptionsResult.Fail($"{OcrOptions.Section}:{nameof(OcrOptions.Languages)}: {ex.Message}");
            }
        }
    }
}
