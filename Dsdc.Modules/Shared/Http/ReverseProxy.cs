using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Shared.Http;

/// <summary>
/// Running behind a reverse proxy (section <c>ReverseProxy</c>): <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are
/// believed only when they come from an address listed in <c>KnownProxies</c> (IP addresses) or <c>KnownNetworks</c>
/// (CIDR, e.g. <c>10.0.0.0/8</c>); with neither set they are ignored, and the client address (which the log-in throttle
/// counts) is the socket's. <c>X-Forwarded-Host</c> is never believed. Which Host names are answered at all is
/// <c>AllowedHosts</c> (ASP.NET's host filtering; <c>*</c> by default, set it to the public names in production).
/// </summary>
public static class ReverseProxy
{
    public const string Section = "ReverseProxy";

    public static void Add(IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(Section);
        var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
        var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];
        if (proxies.Length == 0 && networks.Length == 0) return;
        var parsedProxies = proxies.Select(p => IPAddress.TryParse(p, out var a) ? a
            : throw new ConfigurationException($"{Section}:KnownProxies", $"'{p}' is not an IP address")).ToList();
        var parsedNetworks = networks.Select(n => System.Net.IPNetwork.TryParse(n, out var net) ? net
            : throw new ConfigurationException($"{Section}:KnownNetworks", $"'{n}' is not a CIDR network such as 10.0.0.0/8")).ToList();
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = 1;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var p in parsedProxies) o.KnownProxies.Add(p);
            foreach (var n in parsedNetworks) o.KnownIPNetworks.Add(n);
        });
        builder.Services.AddSingleton(new Enabled());
    }

    public static void Use(WebApplication app)
    {
        if (app.Services.GetService<Enabled>() is not null) app.UseForwardedHeaders();
    }

    private sealed class Enabled;
}
