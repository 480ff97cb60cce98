using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using NSec.Cryptography;

namespace Dsdc.Auth;

/// <summary>
/// Argon2id (libsodium, through NSec) at OWASP's baseline: 19 MiB of memory, 2 passes, one lane, a 128-bit random salt
/// and a 256-bit tag, stored as a PHC string (<c>$argon2id$v=19$m=19456,t=2,p=1$salt$tag</c>) that carries its
/// parameters, so a stronger setting later still verifies old hashes and replaces them at the next log-in. Hashes of
/// earlier versions (ASP.NET Core Identity's v3 format: PBKDF2 with HMAC-SHA512) still verify, and are replaced by
/// Argon2id hashes at the user's next log-in.
/// </summary>
internal sealed class PasswordHashing
{
    internal const string Argon2idPrefix = "$argon2id$v=19$";
    private const int SaltBytes = 16;
    private const int TagBytes = 32;

    /// <summary>The parameters of new hashes: memory in KiB, passes, lanes (libsodium computes one lane).</summary>
    internal static readonly (int MemoryKiB, int Passes, int Lanes) Current = (19 * 1024, 2, 1);

    // Bounds on what a stored hash may ask for: a row written by hand cannot make a log-in take seconds or gigabytes.
    private const int MaxMemoryKiB = 256 * 1024;
    private const int MaxPasses = 16;

    // At most this many hashes at once (19 MiB each): logins from many addresses cannot exhaust memory, and the work is
    // bound by the cores anyway.
    private static readonly SemaphoreSlim Slots = new(Math.Max(2, Environment.ProcessorCount));

    private readonly PasswordHasher<object> _legacy = new(Options.Create(new PasswordHasherOptions
    {
        CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
        IterationCount = 100_000,
    }));

    // Unknown users are checked against these hashes, so that they cost the same time as known ones.
    private readonly Lazy<string> _decoy;
    private readonly Lazy<string> _legacyDecoy;

    public PasswordHashing()
    {
        _decoy = new(() => Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));
        _legacyDecoy = new(() => _legacy.HashPassword(this, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));
    }

    public string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var tag = Derive(password, salt, Current.MemoryKiB, Current.Passes, TagBytes);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Argon2idPrefix}m={Current.MemoryKiB},t={Current.Passes},p={Current.Lanes}${Base64(salt)}${Base64(tag)}");
    }

    public enum Outcome { Wrong, Right, RightButRehash }

    /// <summary>
    /// Checks <paramref name="password"/> against a stored hash. While some user still has an earlier version's PBKDF2
    /// hash (<paramref name="legacyHashesRemain"/>), every check costs one Argon2id and one PBKDF2 run, whichever the
    /// hash is: otherwise the time of a failed log-in would tell those users from the others and from unknown names.
    /// </summary>
    public Outcome Verify(string hash, string password, bool legacyHashesRemain = false)
    {
        if (!hash.StartsWith(Argon2idPrefix, StringComparison.Ordinal))
        {
            // An earlier version's PBKDF2 hash: right once more, and replaced by an Argon2id one.
            var legacy = _legacy.VerifyHashedPassword(this, hash, password);
            VerifyArgon2id(_decoy.Value, password);
            return legacy is PasswordVerificationResult.Failed ? Outcome.Wrong : Outcome.RightButRehash;
        }
        var outcome = VerifyArgon2id(hash, password);
        if (legacyHashesRemain) _legacy.VerifyHashedPassword(this, _legacyDecoy.Value, password);
        return outcome;
    }

    /// <summary>Spends the time of a real verification and always fails.</summary>
    public void VerifyDecoy(string password, bool legacyHashesRemain = false) => Verify(_decoy.Value, password, legacyHashesRemain);

    private Outcome VerifyArgon2id(string hash, string password)
    {
        if (Parse(hash) is not { } stored) return Outcome.Wrong;
        var tag = Derive(password, stored.Salt, stored.MemoryKiB, stored.Passes, stored.Tag.Length);
        if (!CryptographicOperations.FixedTimeEquals(tag, stored.Tag)) return Outcome.Wrong;
        return (stored.MemoryKiB, stored.Passes, stored.Tag.Length) == (Current.MemoryKiB, Current.Passes, TagBytes) ? Outcome.Right : Outcome.RightButRehash;
    }

    internal static byte[] Derive(string password, byte[] salt, int memoryKiB, int passes, int count)
    {
        var parameters = new Argon2Parameters { DegreeOfParallelism = 1, MemorySize = memoryKiB, NumberOfPasses = passes };
        Slots.Wait();
        try
        {
            // The password as UTF-8, as every other Argon2 implementation reads it (NSec's string overload takes UTF-16).
            return PasswordBasedKeyDerivationAlgorithm.Argon2id(in parameters).DeriveBytes(Encoding.UTF8.GetBytes(password), salt, count);
        }
        finally
        {
            Slots.Release();
        }
    }

    /// <summary>The parts of a stored <c>$argon2id$v=19$m=M,t=T,p=1$salt$tag</c>, or null when it is not one this can verify.</summary>
    private static (int MemoryKiB, int Passes, byte[] Salt, byte[] Tag)? Parse(string hash)
    {
        var parts = hash[Argon2idPrefix.Length..].Split('$');
        if (parts.Length != 3) return null;
        int? memory = null, passes = null, lanes = null;
        foreach (var setting in parts[0].Split(','))
        {
            var (key, value) = setting.IndexOf('=') is > 0 and var eq ? (setting[..eq], setting[(eq + 1)..]) : ("", "");
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return null;
            switch (key)
            {
                case "m": memory = n; break;
                case "t": passes = n; break;
                case "p": lanes = n; break;
                default: return null;
            }
        }
        if (memory is not (>= 8 and <= MaxMemoryKiB) || passes is not (>= 1 and <= MaxPasses) || lanes != 1) return null;
        var salt = FromBase64(parts[1]);
        var tag = FromBase64(parts[2]);
        return salt is { Length: SaltBytes } && tag is { Length: >= 16 and <= 64 } ? (memory.Value, passes.Value, salt, tag) : null;
    }

    // PHC strings use standard Base64 without padding.
    private static string Base64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static byte[]? FromBase64(string text)
    {
        var padded = text + new string('=', (4 - text.Length % 4) % 4);
        var buffer = new byte[padded.Length * 3 / 4];
        return Convert.TryFromBase64String(padded, buffer, out var written) ? buffer[..written] : null;
    }
}
