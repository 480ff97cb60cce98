using Dsdc.Auth;
using Dsdc.ImageProcessing;
using Dsdc.Inference;
using Dsdc.Inference.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Dsdc.Web.Pages.Classify;

/// <summary>
/// Upload, classify with the champion, then Post-Redirect-Get to the recorded prediction. Posts share the API's
/// concurrency limit (<see cref="PredictionGate"/>: <c>Api:MaxConcurrentPredictions</c> and <c>Api:QueueLimit</c>),
/// entered once the upload is read: beyond it, 503 with Retry-After.
/// </summary>
public sealed class IndexModel(PredictionService predictions, IDocumentClassifier classifier, Dsdc.Embedding.IDocumentEncoder encoder,
    PredictionGate gate, IOptions<PredictionApiOptions> options, ILogger<IndexModel> logger) : PageModel
{
    private const string NotADocumentMessage = "This is not a TIFF, PNG, JPEG, BMP or PDF document.";

    [BindProperty]
    public IFormFile? Upload { get; set; }

    /// <summary>What serves predictions now: a trained model (and the classes it knows) or the zero-shot model.</summary>
    public StatusResponse Serving => ServingStatus.Describe(classifier, encoder);

    /// <summary>The upload limit, for the browser's own check before sending.</summary>
    public long MaxUploadBytes => options.Value.MaxUploadBytes;

    public string TooLargeMessage => UploadLimits.TooLargeMessage(options.Value);

    /// <summary><c>?tooLarge=true</c>: an upload over the limit was refused before it reached this page.</summary>
    public void OnGet(bool tooLarge = false)
    {
        if (tooLarge) ModelState.AddModelError(nameof(Upload), TooLargeMessage);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var upload = Upload;
        if (upload is null || upload.Length == 0)
            ModelState.AddModelError(nameof(Upload), "Choose a document to classify.");
        else if (upload.Length > options.Value.MaxUploadBytes)
            ModelState.AddModelError(nameof(Upload), TooLargeMessage);
        // What the file is comes first, as for the API: a file of another type is told so at once, never kept waiting for a slot.
        else if (await UploadLimits.SniffAsync(upload, ct) is not null)
            ModelState.AddModelError(nameof(Upload), NotADocumentMessage);
        if (!ModelState.IsValid || upload is null) return Page();
        if (!await predictions.HasModelAsync(ct))
        {
            ModelState.AddModelError("", predictions.NoModelReason);
            return Page();
        }
        // The upload is read (model binding) and checked: only now does the request wait for a slot.
        using var slot = await gate.EnterAsync(ct);
        if (!slot.IsAcquired)
        {
            await Dsdc.Web.Ui.UiModule.WriteClassifyBusyPageAsync(HttpContext, ct);
            return new EmptyResult();
        }
        try
        {
            var outcome = await predictions.ClassifyAsync(upload.CopyToAsync, upload.FileName, User.GetUserName() ?? "anonymous", ct);
            return RedirectToPage("/Predictions/Show", new { id = outcome.PredictionId });
        }
        catch (InvalidDocumentException ex)
        {
            ModelState.AddModelError(nameof(Upload), ex.ReasonCode == "unsupported-format"
                ? NotADocumentMessage
                : $"The document cannot be read: {ex.Message}");
            return Page();
        }
        catch (NoModelException ex)
        {
            ModelState.AddModelError("", ex.Message);
            return Page();
        }
        catch (Dsdc.Ingestion.DocumentBeingDeletedException ex)
        {
            ModelState.AddModelError(nameof(Upload), ex.Message);
            Response.StatusCode = StatusCodes.Status409Conflict;
            return Page();
        }
        catch (Exception ex) when (ex is Dsdc.ImageProcessing.PdfRendererSetupException or Dsdc.Ocr.OcrSetupException)
        {
            // The machine's problem, not the document's: said as such, as the API's 503 does.
            logger.LogError(ex, "A document could not be read for want of its reader");
            ModelState.AddModelError("", UploadLimits.ReaderUnavailableMessage(ex));
            Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Page();
        }
    }
}
