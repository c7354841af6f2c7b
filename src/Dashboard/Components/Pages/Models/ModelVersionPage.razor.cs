using Dashboard.Components.Pages.Promotions;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Dashboard.Components.Pages.Models;

/// <summary>
/// One model version: stage, aliases, source run, description, tags and the run's latest metrics and params; the
/// pending promotion requests of the version; and, for callers with EDIT on the model, a request form that shows
/// which targets the policy protects and the gates evaluated live for the chosen target
/// (<see cref="PromotionService.EvaluateGatesAsync"/>). A request that was opened leads to its page.
/// </summary>
public partial class ModelVersionPage
{
    /// <summary>The stages a request may target (None is not a promotion).</summary>
    public static readonly IReadOnlyList<string> TargetStages = [ModelStage.Staging, ModelStage.Production, ModelStage.Archived];

    [Parameter] public string Name { get; set; } = "";
    [Parameter] public string Version { get; set; } = "";

    [Inject] private RegistryService Registry { get; set; } = default!;
    [Inject] private RunService Runs { get; set; } = default!;
    [Inject] private PromotionService Promotions { get; set; } = default!;
    [Inject] private Auth.PageAccess Access { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    private ModelVersionDetails? _version;
    private Run? _run;
    private string? _runMessage;
    private string? _notFound;
    private AccessLevel _level;
    private PolicyView? _policy;
    private List<PromotionRequestView> _pending = [];
    private string? _pendingError;
    private List<BreadcrumbItem> _crumbs = [];

    private string? _kind;
    private string? _target;
    private string? _aliasInput;
    private bool _archiveExisting = true;
    private string? _comment;
    private IReadOnlyList<GateResult> _gates = [];
    private string? _gatesError;
    private string? _requestError;
    private bool _busy;
    private int _evaluation;

    /// <summary>Opening a request needs EDIT on the model (the service checks again).</summary>
    private bool CanRequest => _level >= AccessLevel.Edit && _version is not null;

    private bool Protected => _kind is not null && _target is not null && _policy?.Protects(_kind, _target) == true;

    private string TargetText => _kind == PromotionTargetKind.Alias ? $"The alias @{_target}" : $"The stage {_target}";

    protected override async Task OnParametersSetAsync()
    {
        _crumbs = [new("Models", "/models"), new(Name, RegistryLinks.Model(Name)), new($"Version {Version}", null, disabled: true)];
        _notFound = null;
        _kind = _target = _aliasInput = _comment = _requestError = _gatesError = null;
        _gates = [];
        try
        {
            await Access.RequireRegisteredModelAsync(Name, AccessLevel.Read);
            _version = await Registry.GetModelVersionAsync(Name, Version);
            _level = await Access.RegisteredModelAsync(Name);
        }
        catch (MlflowException e) when (e.ErrorCode is ErrorCode.RESOURCE_DOES_NOT_EXIST or ErrorCode.INVALID_PARAMETER_VALUE
            or ErrorCode.PERMISSION_DENIED)
        {
            _version = null;
            _notFound = e.Message;
            return;
        }
        await LoadRunAsync();
        await LoadPolicyAndRequestsAsync();
    }

    private async Task LoadRunAsync()
    {
        _run = null;
        _runMessage = null;
        if (_version?.Version.RunId is not { Length: > 0 } runId)
        {
            _runMessage = "This version names no source run.";
            return;
        }
        try
        {
            await Access.RequireRunAsync(runId, AccessLevel.Read);
            _run = await Runs.GetRunAsync(runId);
        }
        catch (MlflowException e) when (e.ErrorCode is ErrorCode.RESOURCE_DOES_NOT_EXIST or ErrorCode.PERMISSION_DENIED)
        {
            _runMessage = $"The source run cannot be shown: {e.Message}";
        }
    }

    private async Task LoadPolicyAndRequestsAsync()
    {
        var caller = await Access.CallerAsync();
        _pendingError = null;
        try
        {
            _policy = await Promotions.GetPolicyAsync(Name, caller);
            var page = await Promotions.SearchRequestsAsync(new PromotionRequestQuery(State: PromotionState.Pending, ModelName: Name, MaxResults: 100), caller);
            _pending = [.. page.Items.Where(r => r.Request.Version == _version!.Version.Version)];
        }
        catch (MlflowException e)
        {
            _pendingError = e.Message;
            _pending = [];
        }
    }

    private async Task ChooseStageAsync(string stage)
    {
        _kind = PromotionTargetKind.Stage;
        _target = stage;
        _aliasInput = null;
        await EvaluateAsync();
    }

    private async Task ChooseAliasAsync(string? alias)
    {
        _aliasInput = alias;
        if (string.IsNullOrWhiteSpace(alias))
        {
            if (_kind == PromotionTargetKind.Alias)
            {
                _kind = _target = null;
                _gates = [];
            }
            return;
        }
        _kind = PromotionTargetKind.Alias;
        _target = alias.Trim();
        await EvaluateAsync();
    }

    /// <summary>The gates for the chosen target, now. Only the latest evaluation is shown when the target changes quickly.</summary>
    private async Task EvaluateAsync()
    {
        var mine = ++_evaluation;
        _requestError = null;
        try
        {
            var gates = await Promotions.EvaluateGatesAsync(Name, Version, _kind, _target, await Access.CallerAsync());
            if (mine == _evaluation)
            {
                _gates = gates;
                _gatesError = null;
            }
        }
        catch (MlflowException e)
        {
            if (mine == _evaluation)
            {
                _gates = [];
                _gatesError = e.Message;
            }
        }
    }

    private async Task SubmitAsync()
    {
        _busy = true;
        _requestError = null;
        try
        {
            var view = await Promotions.CreateRequestAsync(new PromotionRequestInput(Name, Version, _kind, _target,
                _kind == PromotionTargetKind.Stage && _target != ModelStage.Archived && _archiveExisting, _comment), await Access.CallerAsync());
            Navigation.NavigateTo(PromotionLinks.Request(view.Request.Id));
        }
        catch (MlflowException e)
        {
            _requestError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }
}
