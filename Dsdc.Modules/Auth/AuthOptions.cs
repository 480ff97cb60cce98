using System.ComponentModel.DataAnnotations;
using System.Text;

namespace Dsdc.Auth;

/// <summary>Settings of section <c>Auth</c>. The signing key and the first admin come from the environment only.</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";
    public const string Issuer = "dsdc";
    public const string Audience = "dsdc";
    public const int MinSigningKeyBytes = 32;

    /// <summary>HS256 key (env <c>Auth__SigningKey</c>); its UTF-8 bytes are the key.</summary>
    [Required(ErrorMessage = "is required: a random secret of at least 32 bytes")]
    public string SigningKey { get; set; } = "";

    [Range(1, 24 * 60)]
    public int TokenLifetimeMinutes { get; set; } = 60;

    /// <summary>Tolerated clock difference between machines when checking exp and nbf.</summary>
    [Range(0, 300)]
    public int ClockSkewSeconds { get; set; } = 30;

    [Range(1, 7 * 24 * 60)]
    public int CookieLifetimeMinutes { get; set; } = 120;

    /// <summary>How long a user's enabled flag and role are trusted before a token or cookie is checked again.</summary>
    [Range(0, 600)]
    public int UserCacheSeconds { get; set; } = 15;

    public ThrottleOptions Throttle { get; set; } = new();

    public AdminOptions Admin { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SigningKey.Length > 0 && Encoding.UTF8.GetByteCount(SigningKey) < MinSigningKeyBytes)
            yield return new($"is too short: at least {MinSigningKeyBytes} bytes are required", [nameof(SigningKey)]);

        var hasUser = !string.IsNullOrWhiteSpace(Admin.Username);
        var hasPassword = !string.IsNullOrEmpty(Admin.Password);
        if (hasUser && !hasPassword)
            yield return new("is required when Auth:Admin:Username is set", ["Admin:Password"]);
        if (hasPassword && !hasUser)
            yield return new("is required when Auth:Admin:Password is set", ["Admin:Username"]);
        if (hasUser && !Usernames.IsValid(Admin.Username!))
            yield return new(Usernames.Rule, ["Admin:Username"]);
        else if (hasUser && Usernames.IsReserved(Admin.Username!))
            yield return new(Usernames.ReservedRule, ["Admin:Username"]);
        if (hasPassword && PasswordPolicy.Check(Admin.Password!) is { } problem)
            yield return new(problem, ["Admin:Password"]);

        foreach (var failure in Throttle.Validate())
            yield return failure;
    }
}

/// <summary>The first admin, created at start while no enabled admin exists (env <c>Auth__Admin__*</c>).</summary>
public sealed class AdminOptions
{
    public string? Username { get; set; }
    public string? Password { get; set; }
}

/// <summary>Brute-force protection of the log-in endpoints.</summary>
public sealed class ThrottleOptions
{
    /// <summary>Failures for one user name from one client address before that address is locked out for that name.</summary>
    public int MaxFailuresPerUser { get; set; } = 5;

    /// <summary>Failures for one user name from all addresses together before the name is locked out, for the addresses
    /// that failed for it only (an address without failures still logs in with the right password).</summary>
    public int MaxFailuresPerUserName { get; set; } = 20;

    /// <summary>Failures from one client address before it is locked out (higher: many users may share one address).</summary>
    public int MaxFailuresPerAddress { get; set; } = 20;

    /// <summary>The first lockout; each further failure doubles it up to <see cref="MaxLockoutSeconds"/>.</summary>
    public int LockoutSeconds { get; set; } = 30;

    public int MaxLockoutSeconds { get; set; } = 900;

    /// <summary>Failures older than this are forgotten.</summary>
    public int WindowSeconds { get; set; } = 900;

    internal IEnumerable<ValidationResult> Validate()
    {
        if (MaxFailuresPerUser is < 1 or > 1000) yield return new("must be between 1 and 1000", ["Throttle:MaxFailuresPerUser"]);
        if (MaxFailuresPerUserName is < 1 or > 100_000) yield return new("must be between 1 and 100000", ["Throttle:MaxFailuresPerUserName"]);
        if (MaxFailuresPerAddress is < 1 or > 100_000) yield return new("must be between 1 and 100000", ["Throttle:MaxFailuresPerAddress"]);
        if (LockoutSeconds is < 1 or > 86_400) yield return new("must be between 1 and 86400", ["Throttle:LockoutSeconds"]);
        if (MaxLockoutSeconds < LockoutSeconds || MaxLockoutSeconds > 86_400)
            yield return new("must be between Auth:Throttle:LockoutSeconds and 86400", ["Throttle:MaxLockoutSeconds"]);
        if (WindowSeconds is < 1 or > 86_400) yield return new("must be between 1 and 86400", ["Throttle:WindowSeconds"]);
    }
}
