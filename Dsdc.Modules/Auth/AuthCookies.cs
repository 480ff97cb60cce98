using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Auth;

/// <summary>Signs a checked user in and out of the cookie scheme; the UI's log-in page calls this after <see cref="ILoginService"/>.</summary>
public static class AuthCookies
{
    public static Task SignInAsync(HttpContext http, LoginResult.Success user) =>
        http.SignInAsync(AuthSchemes.Cookie,
            new ClaimsPrincipal(ClaimsPrincipalExtensions.CreateIdentity(AuthSchemes.Cookie, user.Username, user.Role, user.SessionVersion)),
            new AuthenticationProperties { IsPersistent = false, IssuedUtc = DateTimeOffset.UtcNow });

    /// <summary>
    /// Logs out: ends every session of the signed-in user (a copy of this cookie, the user's other cookies and bearer
    /// tokens all stop working, see <see cref="ActiveUserCheck"/>), then deletes the cookie. The user is the one of the
    /// cookie, else of the request's bearer token; without either only the cookie is deleted.
    /// </summary>
    public static async Task SignOutAsync(HttpContext http)
    {
        var cookie = await http.AuthenticateAsync(AuthSchemes.Cookie);
        var name = cookie.Principal?.GetUserName() ?? http.User.GetUserName();
        if (name is not null)
            await http.RequestServices.GetRequiredService<UserStore>().EndSessionsAsync(name, http.RequestAborted);
        await http.SignOutAsync(AuthSchemes.Cookie);
    }
}
