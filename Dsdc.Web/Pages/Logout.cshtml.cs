using Dsdc.Auth;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages;

/// <summary>
/// Log-out. The form's antiforgery token is checked while the session it belongs to is alive (a page of a sibling site
/// cannot end a user's sessions). Once that session has ended (logged out in another tab, or timed out) the request
/// arrives anonymous and the token, which belonged to it, cannot be valid: it lands on the log-in page, not on a 400.
/// </summary>
[AllowAnonymous, IgnoreAntiforgeryToken]
public sealed class LogoutModel(IAntiforgery antiforgery) : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Login");

    public async Task<IActionResult> OnPostAsync()
    {
        if (User.Identity?.IsAuthenticated == true && !await antiforgery.IsRequestValidAsync(HttpContext)) return BadRequest();
        await AuthCookies.SignOutAsync(HttpContext);
        // The page images the browser kept for this user go with the session.
        Response.Headers["Clear-Site-Data"] = "\"cache\"";
        return RedirectToPage("/Login");
    }
}
