using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Dsdc.Auth;

/// <summary>
/// ASP.NET Core Identity's v3 format: PBKDF2 with HMAC-SHA512, a 128-bit salt and 100,000 iterations, stored with its
/// parameters so that a stronger setting later still verifies (and rehashes) old hashes.
/// </summary>
internal sealed class PasswordHashing
{
    private const int Iterations = 100_000;

    private readonly PasswordHasher<object> _hasher = new(Options.Create(new PasswordHasherOptions
    {
        CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
        IterationCount = Iterations,
    }));

    // Unknown users are checked against this hash, so that they cost the same time as known ones.
    private readonly Lazy<string> _decoy;

    public PasswordHashing() => _decoy = new(() => Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));

    public string Hash(string password) => _hasher.HashPassword(this, password);

    public enum Outcome { Wrong, Right, RightButRehash }

    public Outcome Verify(string hash, string password) => _hasher.VerifyHashedPassword(this, hash, password) switch
    {
        PasswordVerificationResult.Success => Outcome.Right,
        PasswordVerificationResult.SuccessRehashNeeded => Outcome.RightButRehash,
        _ => Outcome.Wrong,
    };

    /// <summary>Spends the time of a real verification and always fails.</summary>
    public void VerifyDecoy(string password) => _hasher.VerifyHashedPassword(this, _decoy.Value, password);
}
