using System.ComponentModel.DataAnnotations;
using Dsdc.Auth;
using Dsdc.Inference.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Dsdc.Web.Pages.Upload;

/// <summary>
/// Many documents in (files or a whole folder), optionally with one class for all: the same <see cref="DocumentUploads"/> as
/// <c>POST /api/v1/documents</c>, then Post-Redirect-Get to the batch's page, which follows the documents through the pipeline.
/// </summary>
public sealed class IndexModel(DocumentUploads uploads, IOptions<PredictionApiOptions> options) : PageModel
{
    [BindProperty]
    public List<IFormFile> Files { get; set; } = [];

    [BindProperty, Range(0, 15, ErrorMessage = "The class must be an index from 0 to 15.")]
    public int? Label { get; set; }

    public PredictionApiOptions Limits => options.Value;

    public void OnGet(bool tooLarge = false)
    {
        if (tooLarge) ModelState.AddModelError(nameof(Files), UploadLimits.BatchTooLargeMessage(Limits));
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var files = Files.Where(f => f.Length > 0 || f.FileName.Length > 0).ToList();
        // The files an operating system writes beside documents (a folder picked on a Mac) are left out, and not counted.
        var documents = DocumentUploads.CountDocuments(files);
        if (files.Count == 0)
            ModelState.AddModelError(nameof(Files), "Choose or drop at least one document.");
        else if (documents == 0)
            ModelState.AddModelError(nameof(Files), DocumentUploads.OnlyOperatingSystemFilesMessage(files));
        else if (documents > Limits.MaxBatchFiles)
            ModelState.AddModelError(nameof(Files), $"{documents} files: at most {Limits.MaxBatchFiles} go in one upload (Api:MaxBatchFiles).");
        else if (files.FirstOrDefault(f => f.Length > Limits.MaxUploadBytes) is { } big)
            ModelState.AddModelError(nameof(Files), $"'{big.FileName}': " + UploadLimits.TooLargeMessage(Limits));
        if (!ModelState.IsValid) return Page();
        var result = await uploads.IngestAsync(files, Label, User.GetUserName() ?? "anonymous", ct);
        TempData["Message"] = $"{result.Accepted} accepted, {result.Duplicates} duplicate{(result.Duplicates == 1 ? "" : "s")}, {result.Rejected} rejected" +
            (result.Deferred > 0 ? $", {result.Deferred} left for the next scheduled ingestion ({DeferredNames(result)})" : "") +
            (result.ClassName is null ? "." : $"; the accepted ones are labelled {result.ClassName}.") +
            (result.Ignored is { Count: > 0 } ignored
                ? $" {ignored.Count} file{(ignored.Count == 1 ? "" : "s")} that an operating system writes beside documents ({string.Join(", ", ignored.Distinct().Take(3))}) left out."
                : "");
        // A batch of deferred files only has no recorded entry, so no batch page: the message is said here.
        return result.Deferred == result.Files.Count
            ? RedirectToPage("/Upload/Index")
            : RedirectToPage("/Upload/Batch", new { batch = result.Batch });
    }

    /// <summary>The deferred files by name with the reason (the same bytes being stored from another upload at that
    /// moment, or a file that changed while it was read), the first few only.</summary>
    private static string DeferredNames(UploadResponse result)
    {
        var deferred = result.Files.Where(f => f.Outcome == "deferred").ToList();
        var named = string.Join(", ", deferred.Take(5).Select(f => $"'{f.FileName}': {f.Reason ?? f.ReasonCode}"));
        return deferred.Count > 5 ? $"{named} and {deferred.Count - 5} more" : named;
    }
}
