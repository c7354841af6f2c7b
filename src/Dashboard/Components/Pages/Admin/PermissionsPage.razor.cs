using System.Globalization;
using Dashboard.Errors;
using Dashboard.Security;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Components.Pages.Admin;

public partial class PermissionsPage
{
    private bool? _allowed;
    private string _kind = "experiment";
    private string? _resource;
    private string? _title;
    private string? _error;
    private IReadOnlyList<Grant>? _grants;
    private IReadOnlyList<DashboardUser> _users = [];
    private string _principalKind = PrincipalKind.User;
    private string? _principal;
    private string _level = PermissionNames.Read;
    private string _whoKind = PrincipalKind.User;
    private string? _who;
    private IReadOnlyList<PrincipalGrant>? _holdings;

    /// <summary>Where the page opens: <c>?experiment=ID</c> or <c>?model=NAME</c>.</summary>
    [SupplyParameterFromQuery(Name = "experiment")] public string? QueryExperiment { get; set; }

    [SupplyParameterFromQuery(Name = "model")] public string? QueryModel { get; set; }

    // The chosen resource: an experiment id or a registered model id.
    private long? _experimentId;
    private long? _modelId;

    protected override async Task OnInitializedAsync()
    {
        _allowed = await IsAdminAsync();
        if (_allowed != true)
        {
            return;
        }
        _users = await Users.ListAsync(CancellationToken.None);
        if (!string.IsNullOrEmpty(QueryModel))
        {
            (_kind, _resource) = ("model", QueryModel);
            await LoadAsync();
        }
        else if (!string.IsNullOrEmpty(QueryExperiment))
        {
            (_kind, _resource) = ("experiment", QueryExperiment);
            await LoadAsync();
        }
    }

    private async Task<bool> IsAdminAsync()
    {
        try
        {
            return (await Access.CallerAsync()).IsAdmin;
        }
        catch (MlflowException)
        {
            return false;
        }
    }

    private async Task LoadAsync()
    {
        _error = null;
        _grants = null;
        _experimentId = _modelId = null;
        await ActAsync(async () =>
        {
            var resource = (_resource ?? "").Trim();
            if (_kind == "model")
            {
                _modelId = await Permissions.RegisteredModelIdAsync(resource);
                _title = $"Registered model {resource}";
            }
            else
            {
                var experiment = await Experiments.GetExperimentAsync(resource);
                _experimentId = experiment.Id;
                _title = $"Experiment {experiment.Name} ({experiment.Id.ToString(CultureInfo.InvariantCulture)})";
            }
            await ReloadGrantsAsync();
        });
    }

    private async Task ReloadGrantsAsync() =>
        _grants = _modelId is { } model ? await Permissions.ListRegisteredModelGrantsAsync(model)
            : _experimentId is { } experiment ? await Permissions.ListExperimentGrantsAsync(experiment)
            : null;

    private Task GrantAsync() => ActAsync(async () =>
    {
        var level = PermissionNames.Parse(_level) ?? AccessLevel.Read;
        if (_modelId is { } model)
        {
            await Permissions.SetRegisteredModelGrantAsync(model, _principalKind, _principal ?? "", level);
        }
        else if (_experimentId is { } experiment)
        {
            await Permissions.SetExperimentGrantAsync(experiment, _principalKind, _principal ?? "", level);
        }
        _principal = null;
        await ReloadGrantsAsync();
    });

    private Task RevokeAsync(Grant grant) => ActAsync(async () =>
    {
        if (_modelId is { } model)
        {
            await Permissions.DeleteRegisteredModelGrantAsync(model, grant.PrincipalKind, grant.PrincipalName);
        }
        else if (_experimentId is { } experiment)
        {
            await Permissions.DeleteExperimentGrantAsync(experiment, grant.PrincipalKind, grant.PrincipalName);
        }
        await ReloadGrantsAsync();
    });

    private Task LoadHoldingsAsync() => ActAsync(async () =>
        _holdings = string.IsNullOrWhiteSpace(_who) ? null : await Permissions.ListGrantsOfAsync(_whoKind, _who.Trim()));

    /// <summary>Every action checks the caller again: the circuit may outlive a role change.</summary>
    private async Task ActAsync(Func<Task> action)
    {
        if (!await IsAdminAsync())
        {
            _allowed = false;
            return;
        }
        try
        {
            _error = null;
            await action();
        }
        catch (MlflowException e) when (e.HttpStatus < 500)
        {
            _error = e.Message;
        }
    }
}
