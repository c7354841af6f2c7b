using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace Dashboard.Components.Pages.Tokens;

/// <summary>
/// The caller's tokens (create, show once, revoke) and, for Admins, service accounts and their tokens. Works on
/// <see cref="TokenService"/> and <see cref="UserDirectory"/> directly; /api/v1/tokens offers the same to programs.
/// </summary>
public sealed partial class TokensPage
{
    [Inject] private CircuitActor Actors { get; set; } = null!;
    [Inject] private TokenService Tokens { get; set; } = null!;
    [Inject] private UserDirectory Users { get; set; } = null!;
    [Inject] private IServiceProvider Services { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;
    [Inject] private IJSRuntime JS { get; set; } = null!;
    [Inject] private TimeProvider Clock { get; set; } = null!;

    private Caller? _caller;
    private DashboardUser? _me;
    private IReadOnlyList<AccessToken> _mine = [];
    private List<DashboardUser> _services = [];
    private IReadOnlyList<AccessToken> _serviceTokens = [];
    private IssuedToken? _issued;
    private string? _issuedFor;
    private string? _copyStatus;
    private string? _error;
    private string? _serviceName;
    private DashboardRole _serviceRole = DashboardRole.Contributor;
    private long _serviceId;

    /// <summary>The scopes a role may give its tokens: a Viewer only reads; anyone who writes may make any scope (the role caps it anyway).</summary>
    public static IReadOnlyList<TokenScope> ScopesFor(DashboardRole role) =>
        role >= DashboardRole.Contributor ? [TokenScope.Read, TokenScope.Write, TokenScope.Admin] : [TokenScope.Read];

    private string Environment =>
        $"MLFLOW_TRACKING_URI={Navigation.BaseUri.TrimEnd('/')}\nMLFLOW_TRACKING_TOKEN={_issued?.Secret}";

    protected override async Task OnInitializedAsync()
    {
        try
        {
            _caller = await Actors.CallerAsync();
        }
        catch (MlflowException e)
        {
            _error = e.Message;
            return;
        }
        _me = Services.GetService<AuthOptions>() is { Mode: AuthMode.Oidc }
            ? await Users.FindByNameAsync(_caller.Name, default)
            : await Users.EnsureLocalUserAsync(default);
        if (_me is null)
        {
            _error = "Your account is not recorded yet: sign out and sign in again.";
            return;
        }
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _mine = await Tokens.ListAsync(_me!.Id, default);
        if (_caller!.IsAdmin)
        {
            _services = (await Users.ListAsync(default)).Where(u => u.IsService).ToList();
            if (_serviceId == 0 && _services.Count > 0)
            {
                _serviceId = _services[0].Id;
            }
            _serviceTokens = (await Tokens.ListAsync(null, default)).Where(t => t.User?.IsService == true).ToList();
        }
    }

    private async Task CreateAsync(DashboardUser owner, TokenRequest request)
    {
        if (!ScopesFor(_caller!.Role).Contains(request.Scope))
        {
            _error = $"A {_caller.Role} may not make a {request.Scope} token.";
            return;
        }
        await IssueAsync(owner, request);
    }

    private async Task CreateServiceTokenAsync(TokenRequest request)
    {
        if (_caller is not { IsAdmin: true } || _services.FirstOrDefault(s => s.Id == _serviceId) is not { } account)
        {
            _error = "Pick a service account first.";
            return;
        }
        await IssueAsync(account, request);
    }

    private async Task IssueAsync(DashboardUser owner, TokenRequest request)
    {
        _error = null;
        _copyStatus = null;
        try
        {
            var expiry = request.Days is { } days ? Clock.GetUtcNow().AddDays(days) : (DateTimeOffset?)null;
            _issued = await Tokens.CreateAsync(owner.Id, request.Name, request.Scope, expiry, _caller!.Name, default);
            _issuedFor = owner.Name;
        }
        catch (ArgumentException e)
        {
            _error = e.Message.Split(" (Parameter", 2)[0];
            return;
        }
        await LoadAsync();
    }

    private async Task CreateServiceAccountAsync()
    {
        _error = null;
        if (_caller is not { IsAdmin: true })
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(_serviceName))
        {
            _error = "Give the service account a name.";
            return;
        }
        try
        {
            var account = await Users.EnsureServiceAccountAsync(_serviceName.Trim(), _serviceRole, default);
            _serviceId = account.Id;
            _serviceName = null;
        }
        catch (InvalidOperationException e)
        {
            _error = e.Message;
            return;
        }
        await LoadAsync();
    }

    private async Task RevokeAsync(AccessToken token)
    {
        _error = null;
        // One's own tokens; an Admin also those of service accounts. The lists only offer these, but the circuit checks anyway.
        var mayRevoke = token.UserId == _me?.Id || _caller is { IsAdmin: true } && token.User?.IsService == true;
        if (!mayRevoke)
        {
            _error = "You may not revoke this token.";
            return;
        }
        await Tokens.RevokeAsync(token.Id, default);
        await LoadAsync();
    }

    private async Task CopyAsync(string text)
    {
        // The browser may refuse (no permission, an insecure origin): the text stays shown for a manual copy.
        _copyStatus = await JS.InvokeAsync<bool>("dashboard.copy", text) ? "Copied." : "The browser did not allow copying; select the text instead.";
    }
}

/// <summary>What the new-token form asks: a name, an expiry in days (none when null) and a scope.</summary>
public sealed record TokenRequest(string Name, int? Days, TokenScope Scope);
