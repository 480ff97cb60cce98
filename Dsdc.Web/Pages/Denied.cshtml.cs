using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages;

public sealed class DeniedModel : PageModel
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
