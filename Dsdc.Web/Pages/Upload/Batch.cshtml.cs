using Dsdc.Inference.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Upload;

/// <summary>One upload batch: every file's outcome as recorded, and the pipeline stages of the accepted ones (refreshed by a script).</summary>
public sealed class BatchModel(DocumentUploads uploads) : PageModel
{
    public BatchStatus? Status { get; private set; }

    public async Task<IActionResult> OnGetAsync(string batch, CancellationToken ct)
    {
        Status = await uploads.StatusAsync(batch, ct);
        return Status is null ? NotFound() : Page();
    }
}
