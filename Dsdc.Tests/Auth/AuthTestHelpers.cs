using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Dsdc.Auth;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Auth;

/// <summary>Users, tokens and cookie log-ins for tests of any module: <c>await factory.CreateUserAsync("ann", Roles.Admin)</c>.</summary>
public static class AuthTestHelpers
{
    public static string NewPassword() => "pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    /// <summary>Adds a user straight into the app's database; returns its (random) password.</summary>
    public static async Task<string> CreateUserAsync(this DsdcAppFactory factory, string username, string role, string? password = null)
    {
        password ??= NewPassword();
        var hash = factory.Services.GetRequiredService<PasswordHashing>().Hash(password);
        var added = await factory.Services.GetRequiredService<UserStore>().AddAsync(username, role, hash, CancellationToken.None);
        Assert.True(added, $"user {username} already exists");
        return password;
    }

    public static Task<HttpResponseMessage> RequestTokenAsync(this HttpClient client, string username, string password,
        string? grantType = null)
    {
        var form = new Dictionary<string, string> { ["username"] = username, ["password"] = password };
        if (grantType is not null) form["grant_type"] = grantType;
        return client.PostAsync("/api/v1/token", new FormUrlEncodedContent(form), TestContext.Current.CancellationToken);
    }

    /// <summary>The access token for these credentials (fails the test on anything but 200).</summary>
    public static async Task<string> GetTokenAsync(this HttpClient client, string username, string password)
    {
        var response = await client.RequestTokenAsync(username, password);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>A client whose requests carry a bearer token of a new user with <paramref name="role"/>.</summary>
    public static async Task<HttpClient> CreateClientWithRoleAsync(this DsdcAppFactory factory, string role)
    {
        var name = $"{role}-{Guid.NewGuid():N}"[..24];
        var password = await factory.CreateUserAsync(name, role);
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await client.GetTokenAsync(name, password));
        return client;
    }

    /// <summary>Signs the client in with the UI's cookie (its cookie container keeps it), as a browser would.</summary>
    public static async Task LogInWithCookieAsync(this HttpClient client, string username, string password)
    {
        var response = await client.PostAsJsonAsync("/api/v1/session", new { username, password }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
