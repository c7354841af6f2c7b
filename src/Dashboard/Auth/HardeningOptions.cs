namespace Dashboard.Auth;

/// <summary><c>Dashboard:Security:*</c>: who may name the server (Host), who may post to it cross-origin (Origin), and how many failed authentications a client address gets.</summary>
public sealed class HardeningOptions
{
    public const int DefaultFailedAuthLimit = 20;

    /// <summary>
    /// Host names (optionally with :port) the server answers to in Oidc mode; <c>*.example.com</c> matches subdomains.
    /// Empty: the standard <c>AllowedHosts</c> key applies (ASP.NET Core's host filtering; "*" allows any). Local mode
    /// answers to loopback names only, whatever is configured.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Origins (scheme://host[:port]) besides the server's own that may send state-changing requests.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>Failed token or JWT authentications per client address and minute before 429; 0 turns the limit off.</summary>
    public int FailedAuthLimit { get; init; } = DefaultFailedAuthLimit;

    public TimeSpan FailedAuthWindow { get; init; } = TimeSpan.FromMinutes(1);

    public static HardeningOptions Read(IConfiguration configuration)
    {
        var section = configuration.GetSection("Dashboard:Security");
        var limitText = section["FailedAuthLimit"];
        var limit = DefaultFailedAuthLimit;
        if (!string.IsNullOrWhiteSpace(limitText)
            && (!int.TryParse(limitText, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            throw new InvalidOperationException($"Dashboard:Security:FailedAuthLimit is '{limitText}'; expected a whole number, 0 or more.");
        }
        return new HardeningOptions
        {
            AllowedHosts = List(section, "AllowedHosts"),
            AllowedOrigins = [.. List(section, "AllowedOrigins").Select(o => o.TrimEnd('/'))],
            FailedAuthLimit = limit,
        };
    }

    /// <summary>A list given as an array (AllowedHosts:0, AllowedHosts:1) or as one value separated by ';' or ','.</summary>
    private static List<string> List(IConfigurationSection section, string key)
    {
        var child = section.GetSection(key);
        var values = child.GetChildren().Select(c => c.Value).ToList();
        values.Add(child.Value);
        return [.. values
            .SelectMany(v => (v ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.OrdinalIgnoreCase)];
    }
}
