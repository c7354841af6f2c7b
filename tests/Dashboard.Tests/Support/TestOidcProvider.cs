using System.Collections.Immutable;
using System.Net;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Dashboard.Data;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dashboard.Tests.Support;

/// <summary>A person of the test provider: their login name, display name and groups (the id token's <c>groups</c> claim).</summary>
public sealed record TestPerson(string Name, string DisplayName, params string[] Groups);

/// <summary>A program of the test provider (client credentials): its access tokens carry <c>roles</c> and the given audience.</summary>
public sealed record TestServiceClient(string ClientId, string Audience, params string[] Roles);

/// <summary>
/// A real OpenID provider in the test process: OpenIddict on 127.0.0.1 (a random port, plain HTTP), its store an
/// in-memory SQLite database, its keys ephemeral. People sign in on its own small login form (any of
/// <see cref="People"/>, password <see cref="Password"/>); the dashboard signs in with the code flow and PKCE, and
/// programs get access tokens with client credentials. Its cookie has its own name: cookies on 127.0.0.1 are shared
/// across ports.
/// </summary>
public sealed class TestOidcProvider : IAsyncDisposable
{
    /// <summary>The password of every test person (the form only checks it, so that a wrong one is refused).</summary>
    public const string Password = "test-password";

    /// <summary>The audience the dashboards this provider starts expect in access tokens.</summary>
    public const string DashboardAudience = "dashboard-api";

    private const string ProviderCookie = "test-provider.session";

    public static readonly IReadOnlyList<TestPerson> People =
    [
        new("alice", "Alice Example", "ml-team"),
        new("victor", "Victor Example", "readers"),
        new("ada", "Ada Example", "dashboard-admins", "ml-team"),
        new("nora", "Nora Example", "outsiders"),
        new("sam", "Sam Example", "ml-team"),
        new("petra", "Petra Example", "approvers", "ml-team"),
    ];

    public static readonly IReadOnlyList<TestServiceClient> ServiceClients =
    [
        new("trainer", DashboardAudience, "ml-team"),
        new("reader-bot", DashboardAudience, "readers"),
        new("stranger-bot", DashboardAudience, "outsiders"),
        new("other-api-bot", "other-api", "ml-team"),
    ];

    /// <summary>The role mapping <see cref="StartDashboardAsync"/> configures (Dashboard:Auth:Oidc:Roles:*).</summary>
    public static readonly IReadOnlyDictionary<string, string> RoleMapping = new Dictionary<string, string>
    {
        ["Dashboard:Auth:Oidc:Roles:Viewer:0"] = "readers",
        ["Dashboard:Auth:Oidc:Roles:Contributor:0"] = "ml-team",
        ["Dashboard:Auth:Oidc:Roles:Admin:0"] = "dashboard-admins",
    };

    private readonly WebApplication _app;
    private readonly SqliteConnection _keepAlive;
    private readonly Dictionary<string, string> _secrets;
    private int _dashboards;

    private TestOidcProvider(WebApplication app, SqliteConnection keepAlive, Uri issuer, Dictionary<string, string> secrets)
    {
        _app = app;
        _keepAlive = keepAlive;
        Issuer = issuer;
        _secrets = secrets;
    }

    /// <summary>The provider's address and issuer (http://127.0.0.1:port/).</summary>
    public Uri Issuer { get; }

    public static async Task<TestOidcProvider> StartAsync()
    {
        // A named in-memory database lives while one connection to it is open; each DbContext opens its own.
        var connectionString = $"Data Source=oidc-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
        var keepAlive = new SqliteConnection(connectionString);
        await keepAlive.OpenAsync();

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<ProviderDb>(o =>
        {
            o.UseSqlite(connectionString);
            o.UseOpenIddict();
        });
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.Cookie.Name = ProviderCookie;
                o.LoginPath = "/login";
                o.ReturnUrlParameter = "returnUrl";
            });
        builder.Services.AddAuthorization();
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<ProviderDb>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetEndSessionEndpointUris("connect/logout");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange().AllowClientCredentialsFlow();
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, "groups");
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                // Access tokens are plain signed JWTs, which a resource server (the dashboard) can validate.
                o.DisableAccessTokenEncryption();
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .DisableTransportSecurityRequirement();
            });

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/login", LoginForm);
        app.MapPost("/login", (Delegate)LoginAsync);
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], (Delegate)AuthorizeAsync);
        app.MapPost("/connect/token", (Delegate)TokenAsync);
        app.MapMethods("/connect/logout", [HttpMethods.Get, HttpMethods.Post], (Delegate)LogoutAsync);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ProviderDb>().Database.EnsureCreatedAsync();
        }
        var secrets = new Dictionary<string, string>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var provider = new TestOidcProvider(app, keepAlive, new Uri(address.TrimEnd('/') + "/"), secrets);
        foreach (var client in ServiceClients)
        {
            await provider.RegisterAsync(new OpenIddictApplicationDescriptor
            {
                ClientId = client.ClientId,
                ClientType = ClientTypes.Confidential,
                Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
            });
        }
        return provider;
    }

    /// <summary>The secret of a registered client (made at random when it was registered).</summary>
    public string SecretOf(string clientId) => _secrets[clientId];

    /// <summary>
    /// Starts a dashboard in Oidc mode pointed at this provider, with <see cref="RoleMapping"/> (groups → roles) and the
    /// <c>groups</c> claim for roles and groups, and registers it as a client (code flow with PKCE, its redirect URIs).
    /// <paramref name="settings"/> adds or overrides keys, e.g. Dashboard:Auth:Oidc:DefaultRole = None.
    /// </summary>
    public async Task<DashboardServer> StartDashboardAsync(IReadOnlyDictionary<string, string>? settings = null,
        DatabaseProvider database = DatabaseProvider.Sqlite)
    {
        var clientId = $"dashboard-{Interlocked.Increment(ref _dashboards)}";
        var secret = NewSecret();
        var all = new Dictionary<string, string>(RoleMapping)
        {
            ["Dashboard:Auth:Mode"] = "Oidc",
            ["Dashboard:Auth:Oidc:Authority"] = Issuer.ToString(),
            ["Dashboard:Auth:Oidc:ClientId"] = clientId,
            ["Dashboard:Auth:Oidc:ClientSecret"] = secret,
            ["Dashboard:Auth:Oidc:Scopes:0"] = "email",
            ["Dashboard:Auth:Oidc:Scopes:1"] = "groups",
            ["Dashboard:Auth:Oidc:RoleClaim"] = "groups",
            ["Dashboard:Auth:Oidc:GroupsClaim"] = "groups",
            ["Dashboard:Auth:Oidc:Audience"] = DashboardAudience,
            ["Dashboard:Auth:Oidc:RequireHttpsMetadata"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        var server = await DashboardServer.StartAsync(database, settings: all);
        try
        {
            var descriptor = new OpenIddictApplicationDescriptor
            {
                ClientId = clientId,
                ClientType = ClientTypes.Confidential,
                RedirectUris = { new Uri(server.Address, "/signin-oidc") },
                PostLogoutRedirectUris = { new Uri(server.Address, "/signout-callback-oidc") },
                Permissions =
                {
                    Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.EndSession,
                    Permissions.GrantTypes.AuthorizationCode, Permissions.ResponseTypes.Code,
                    Permissions.Scopes.Profile, Permissions.Scopes.Email, Permissions.Prefixes.Scope + "groups",
                },
                Requirements = { Requirements.Features.ProofKeyForCodeExchange },
            };
            await RegisterAsync(descriptor, secret);
            await WarmUpAsync(server);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>
    /// One sign-in request up to the login form, over HTTP: the dashboard reads the provider's metadata and the provider
    /// its client store once, so that a browser journey's first page is not the one that waits for both.
    /// </summary>
    private static async Task WarmUpAsync(DashboardServer dashboard)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        using var signIn = await http.GetAsync(new Uri(dashboard.Address, "/account/signin"));
        signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        using var authorize = await http.GetAsync(signIn.Headers.Location);
        authorize.StatusCode.ShouldBe(HttpStatusCode.Redirect, await authorize.Content.ReadAsStringAsync());
    }

    /// <summary>An access token of a service client (client credentials at the token endpoint, over real HTTP).</summary>
    public async Task<string> ClientCredentialsTokenAsync(string clientId)
    {
        using var http = new HttpClient { BaseAddress = Issuer };
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = SecretOf(clientId),
        }));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!["access_token"]!.GetValue<string>();
    }

    /// <summary>
    /// In a browser: waits for this provider's login form (where a dashboard sent the page), signs in as
    /// <paramref name="person"/> (one of <see cref="People"/>) and submits; the provider then sends the page back.
    /// </summary>
    public async Task SignInAtLoginFormAsync(IPage page, string person)
    {
        var login = new Uri(Issuer, "login").ToString();
        await page.WaitForURLAsync(url => url.StartsWith(login, StringComparison.Ordinal));
        await page.FillAsync("#username", person);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("#provider-sign-in");
    }

    /// <summary>
    /// In a browser without a session: opens <paramref name="path"/> on a dashboard this provider started, signs in as
    /// <paramref name="person"/>, and waits until the page is back there with its Blazor circuit up.
    /// </summary>
    public async Task OpenSignedInAsync(IPage page, DashboardServer dashboard, string path, string person)
    {
        var target = new Uri(dashboard.Address, path).ToString();
        await page.GotoAsync(target);
        await SignInAtLoginFormAsync(page, person);
        await page.WaitForURLAsync(target);
        await page.WaitForSelectorAsync("[data-interactive='yes']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
    }

    private async Task RegisterAsync(OpenIddictApplicationDescriptor descriptor, string? secret = null)
    {
        secret ??= NewSecret();
        descriptor.ClientSecret = secret;
        await using var scope = _app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(descriptor);
        lock (_secrets)
        {
            _secrets[descriptor.ClientId!] = secret;
        }
    }

    private static string NewSecret() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private static IResult LoginForm(string? returnUrl, string? error) => Results.Content(
        $"""
        <!DOCTYPE html><html><head><title>Test provider sign-in</title></head><body>
        <h1>Test provider</h1>
        <p data-testid="provider-error">{WebUtility.HtmlEncode(error ?? "")}</p>
        <form method="post" action="/login">
          <input type="hidden" name="returnUrl" value="{WebUtility.HtmlEncode(returnUrl ?? "/")}" />
          <label>User <input name="username" id="username" /></label>
          <label>Password <input name="password" id="password" type="password" /></label>
          <button type="submit" id="provider-sign-in">Sign in</button>
        </form></body></html>
        """, "text/html; charset=utf-8");

    private static async Task<IResult> LoginAsync(HttpContext http)
    {
        var form = await http.Request.ReadFormAsync();
        var returnUrl = form["returnUrl"].ToString();
        if (!returnUrl.StartsWith("/connect/", StringComparison.Ordinal))
        {
            returnUrl = "/";
        }
        var person = People.FirstOrDefault(p => p.Name == form["username"].ToString());
        if (person is null || form["password"].ToString() != Password)
        {
            return Results.Redirect($"/login?error=Unknown%20user%20or%20wrong%20password&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, person.Name)], CookieAuthenticationDefaults.AuthenticationScheme);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return Results.Redirect(returnUrl);
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext http)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var signedIn = await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        var person = signedIn.Succeeded ? People.FirstOrDefault(p => p.Name == signedIn.Principal!.Identity!.Name) : null;
        if (person is null)
        {
            return Results.Challenge(new AuthenticationProperties { RedirectUri = http.Request.Path + http.Request.QueryString },
                [CookieAuthenticationDefaults.AuthenticationScheme]);
        }
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, "sub-" + person.Name)
            .SetClaim(Claims.Name, person.DisplayName)
            .SetClaim(Claims.PreferredUsername, person.Name)
            .SetClaim(Claims.Email, person.Name + "@example.org")
            .SetClaims("groups", [.. person.Groups]);
        identity.SetScopes(request.GetScopes());
        identity.SetResources(DashboardAudience);
        identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> TokenAsync(HttpContext http)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        if (request.IsAuthorizationCodeGrantType())
        {
            var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return Results.SignIn(result.Principal!, null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }
        if (request.IsClientCredentialsGrantType() && ServiceClients.FirstOrDefault(c => c.ClientId == request.ClientId) is { } client)
        {
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, client.ClientId)
                .SetClaims("roles", [.. client.Roles]);
            identity.SetScopes(request.GetScopes());
            identity.SetResources(client.Audience);
            identity.SetDestinations(_ => [Destinations.AccessToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }
        return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = OpenIddictConstants.Errors.UnsupportedGrantType,
        }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static async Task<IResult> LogoutAsync(HttpContext http)
    {
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _keepAlive.DisposeAsync();
    }

    private sealed class ProviderDb(DbContextOptions<ProviderDb> options) : DbContext(options);
}
