using System.Security.Claims;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Dsdc.Auth;

/// <summary>The RFC 6749 (section 5.1) access token response; these snake_case names are the contract.</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>Issues the HS256 access tokens: <c>sub</c>, <c>role</c>, <c>sv</c> (session version), <c>exp</c>, <c>iat</c>, <c>nbf</c>, <c>jti</c>.</summary>
internal sealed class TokenService(IOptions<AuthOptions> options, TimeProvider time)
{
    public TokenResponse Issue(string username, string role, int sessionVersion = 0)
    {
        var settings = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var lifetime = TimeSpan.FromMinutes(settings.TokenLifetimeMinutes);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = AuthOptions.Issuer,
            Audience = AuthOptions.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = new Dictionary<string, object>
            {
                [ClaimsPrincipalExtensions.NameClaim] = username,
                [ClaimsPrincipalExtensions.RoleClaim] = role,
                [ClaimsPrincipalExtensions.SessionVersionClaim] = sessionVersion,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(SigningKey(settings), SecurityAlgorithms.HmacSha256),
        };
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
        return new TokenResponse(token, "bearer", (int)lifetime.TotalSeconds);
    }

    internal static SymmetricSecurityKey SigningKey(AuthOptions settings) => new(Encoding.UTF8.GetBytes(settings.SigningKey));
}
