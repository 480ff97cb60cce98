using System.Net;
using Dsdc.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Auth;

/// <summary>Passwords are stored as Argon2id PHC strings; hashes of earlier versions (PBKDF2) are replaced at log-in.</summary>
public sealed class PasswordHashingTests(AuthApp app) : IClassFixture<AuthApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// A hash made by another Argon2id implementation verifies here: the stored strings are standard ones. The tag was
    /// computed with the managed Konscious.Security.Cryptography.Argon2 1.3.1 (not a dependency of the product), which
    /// gives the reference implementation's published vector ("password", "somesalt", m=65536, t=2, p=1: 09316115...).
    /// libsodium takes 16-byte salts only, so that vector cannot be checked here directly.
    /// </summary>
    [Fact]
    public void AnArgon2idHashFromAnotherImplementationVerifies()
    {
        const string other = "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0";
        var hashing = new PasswordHashing();

        Assert.Equal(PasswordHashing.Outcome.Right, hashing.Verify(other, "correct horse battery staple"));
        Assert.Equal(PasswordHashing.Outcome.Wrong, hashing.Verify(other, "correct horse battery stapl"));
        Assert.Equal(Convert.FromBase64String("gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0="),
            PasswordHashing.Derive("correct horse battery staple", "0123456789abcdef"u8.ToArray(), 19456, 2, 32));
    }

    [Fact]
    public void NewHashesAreSaltedArgon2idPhcStringsAtTheCurrentParameters()
    {
        var hashing = new PasswordHashing();

        var first = hashing.Hash("Ünïcode pässword 42");
        var second = hashing.Hash("Ünïcode pässword 42");

        Assert.Matches(@"^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$", first);
        Assert.NotEqual(first, second);
        Assert.Equal(PasswordHashing.Outcome.Right, hashing.Verify(first, "Ünïcode pässword 42"));
        Assert.Equal(PasswordHashing.Outcome.Wrong, hashing.Verify(first, "Unicode password 42"));
    }

    [Fact]
    public void OlderHashesVerifyAndAskToBeReplacedAndBrokenOnesNeverVerify()
    {
        var hashing = new PasswordHashing();
        var pbkdf2 = new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3 }))
            .HashPassword(new object(), "old-password-1");
        var salt = "fedcba9876543210"u8.ToArray();
        var weaker = $"$argon2id$v=19$m=8192,t=2,p=1${Convert.ToBase64String(salt).TrimEnd('=')}$" +
            Convert.ToBase64String(PasswordHashing.Derive("old-password-1", salt, 8192, 2, 32)).TrimEnd('=');

        Assert.Equal(PasswordHashing.Outcome.RightButRehash, hashing.Verify(pbkdf2, "old-password-1"));
        Assert.Equal(PasswordHashing.Outcome.Wrong, hashing.Verify(pbkdf2, "old-password-2"));
        Assert.Equal(PasswordHashing.Outcome.RightButRehash, hashing.Verify(weaker, "old-password-1"));
        Assert.Equal(PasswordHashing.Outcome.Wrong, hashing.Verify(weaker, "old-password-2"));
        foreach (var broken in new[]
        {
            "", "$argon2id$v=19$", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$dGFn", "$argon2id$v=19$m=99999999,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0",
            "$argon2id$v=19$m=19456,t=2,p=4$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0",
            "$argon2id$v=19$m=19456,t=x,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0",
            "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$not*base64",
        })
            Assert.Equal(PasswordHashing.Outcome.Wrong, hashing.Verify(broken, "old-password-1"));
    }

    /// <summary>A user whose password was stored by an earlier version logs in as before, and from then on has an Argon2id hash.</summary>
    [Fact]
    public async Task AnOlderHashIsReplacedByAnArgon2idHashAtTheNextLogIn()
    {
        await app.CreateUserAsync("olga", Roles.User);
        var store = app.Services.GetRequiredService<UserStore>();
        var pbkdf2 = new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3, IterationCount = 100_000 }))
            .HashPassword(new object(), "stored-long-ago-7");
        await store.SetPasswordHashAsync("olga", pbkdf2, Ct);
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("olga", "stored-long-ago-7")).StatusCode);

        var now = (await store.FindCredentialsAsync("olga", Ct))!.PasswordHash;
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", now);
        Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("olga", "stored-long-ago-7")).StatusCode);
    }
}
