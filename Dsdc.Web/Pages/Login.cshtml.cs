using System.ComponentModel.DataAnnotations;
using Dsdc.Auth;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages;

public sealed class LoginModel(ILoginService logins) : PageModel
{
    public sealed class LoginInput
    {
        [Required, Display(Name = "User name")]
        public string Username { get; set; } = "";

        [Required, DataType(DataType.Password)]
        public string Password { get; set; } = "";
    }

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid) return Page();
        switch (await logins.LogInAsync(Input.Username, Input.Password, HttpContext.Connection.RemoteIpAddress, ct))
        {
            case LoginResult.Success success:
                await AuthCookies.SignInAsync(HttpContext, success);
                return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/classify");
            case LoginResult.Throttled throttled:
                ModelState.AddModelError("", $"Too many failed log-ins: try again in {Math.Ceiling(throttled.RetryAfter.TotalMinutes)} minute(s).");
                return Page();
            default:
                ModelState.AddModelError("", "Wrong user name or password.");
                return Page();
        }
    }
}
