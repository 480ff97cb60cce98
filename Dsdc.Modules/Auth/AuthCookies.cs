using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Dsdc.Auth;

/// <summary>Signs a checked user in and out of the cookie scheme; the UI's log-in page calls this after <see cref="ILoginService"/>.</summary>
public static class AuthCookies
{
    public static Task SignInAsync(HttpContext http, LoginResult.Success user) =>
        http.SignInAsync(AuthSchemes.Cookie,
            new ClaimsPrincipal(ClaimsPrincipalExtensions.CreateIdentity(AuthSchemes.Cookie, user.Username, user.Role)),
            new AuthenticationProperties { IsPersistent = false, IssuedUtc = DateTimeOffset.UtcNow });

    public static Task SignOutAsync(HttpContext http) => http.SignOutAsync(AuthSchemes.Cookie);
}
