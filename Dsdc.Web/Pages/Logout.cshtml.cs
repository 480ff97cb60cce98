using Dsdc.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages;

/// <summary>
/// Log-out. Its form's antiforgery token belongs to the user who loaded the page: once that session has ended (logged
/// out in another tab, or timed out) the check would answer a bare 400, so it is not checked here. A cross-site post
/// cannot log anyone out: the session cookie is SameSite=Strict, so such a request arrives without it.
/// </summary>
[AllowAnonymous, IgnoreAntiforgeryToken]
public sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Login");

    public async Task<IActionResult> OnPostAsync()
    {
        await AuthCookies.SignOutAsync(HttpContext);
        return RedirectToPage("/Login");
    }
}
