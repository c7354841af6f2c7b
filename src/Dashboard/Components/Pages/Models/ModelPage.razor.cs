using System.Globalization;
using Dashboard.Artifacts;
using Dashboard.Components.Pages.Experiments;
using Dashboard.Components.Shared;
using Dashboard.Errors;
using Dashboard.ModelCards;
using Dashboard.Registry;
using Dashboard.Search;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Dashboard.Components.Pages.Models;

/// <summary>
/// One registered model: its versions, description and tags, stage transitions, aliases, the history of stage changes
/// and alias moves, and the model card of the selected version (<c>?version=N</c>, so a link shows that version).
/// Every change goes through <see cref="RegistryService"/> with its validation; its message is shown beside the
/// control that caused it, and the page then reloads what the change touched.
/// </summary>
public partial class ModelPage
{
    public const int VersionPage = 200;
    public const int HistoryPage = 50;

    private RegisteredModelDetails? _model;
    private List<ModelVersionDetails> _versions = [];
    private string? _moreVersions;
    private List<RegistryEvent> _history = [];
    private string? _moreHistory;
    private ModelVersionDetails? _selected;
    private ModelCard? _card;
    private string? _cardMessage;
    private string? _notFound;

    /// <summary>The caller's permission on the model: edit controls are disabled below EDIT (MANAGE for delete); the handlers check again.</summary>
    private Dashboard.Security.AccessLevel _level;

    /// <summary>Changes (description, tags, stage, aliases, rename) need EDIT on the model; the controls are not shown below it.</summary>
    private bool CanEdit => _level >= Dashboard.Security.AccessLevel.Edit;

    /// <summary>Deletes (the model, an alias, a version's tag) need MANAGE, as the API requires.</summary>
    private bool CanManage => _level >= Dashboard.Security.AccessLevel.Manage;
    private string? _stageError;
    private string? _aliasError;
    private string? _deleteError;
    private string? _aliasName;
    private string? _aliasVersion;
    private bool _archiveExisting;
    private bool _busy;
    private List<BreadcrumbItem> _crumbs = [];

    /// <summary>The model's name, decoded from its path segment by the router.</summary>
    [Parameter] public string Name { get; set; } = "";

    [SupplyParameterFromQuery(Name = "version")] public int? Version { get; set; }

    private IReadOnlyList<KeyValuePair<string, string>> ModelTags =>
        _model?.Model.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => KeyValuePair.Create(t.Key, t.Value)).ToList() ?? [];

    private IReadOnlyList<KeyValuePair<string, string>> VersionTags =>
        _selected?.Version.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => KeyValuePair.Create(t.Key, t.Value)).ToList() ?? [];

    private string? _loadedName;

    protected override async Task OnParametersSetAsync()
    {
        _crumbs = [new("Models", "/models"), new(Name, null, disabled: true)];
        if (_loadedName != Name)
        {
            _loadedName = Name;
            _stageError = _aliasError = null;
            await LoadAllAsync();
        }
        else
        {
            await SelectAsync();
        }
    }

    private async Task LoadAllAsync()
    {
        _notFound = null;
        try
        {
            _model = await Registry.GetRegisteredModelAsync(Name);
            await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Read);
            _level = await Access.RegisteredModelAsync(Name);
        }
        catch (MlflowException e) when (e.ErrorCode is ErrorCode.RESOURCE_DOES_NOT_EXIST or ErrorCode.INVALID_PARAMETER_VALUE
            or ErrorCode.PERMISSION_DENIED)
        {
            _model = null;
            _notFound = e.Message;
            return;
        }
        await LoadVersionsAsync();
        await LoadHistoryAsync();
        await SelectAsync();
    }

    /// <summary>Reloads the model (stages, aliases, tags) and its versions and history after a change.</summary>
    private async Task RefreshAsync()
    {
        var keep = _selected?.Version.Version;
        await LoadAllAsync();
        if (keep is not null && _selected?.Version.Version != keep)
        {
            await SelectAsync();
        }
    }

    private async Task LoadVersionsAsync()
    {
        var page = await Registry.SearchModelVersionsAsync(new ModelVersionSearchRequest(
            $"name = {ExperimentsPage.Quote(Name)}", VersionPage, ["version_number DESC"], null));
        _versions = [.. page.Items];
        _moreVersions = page.NextPageToken;
        await LoadRunMetricsAsync();
    }

    /// <summary>The most metric columns the versions table shows.</summary>
    private const int MetricColumns = 3;

    private IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> _runMetrics =
        new Dictionary<string, IReadOnlyDictionary<string, double>>();
    private List<string> _metricKeys = [];

    /// <summary>
    /// The latest metrics of the listed versions' runs, and the columns to show: the keys most of the versions' runs
    /// logged (ties by name), so versions compare side by side.
    /// </summary>
    private async Task LoadRunMetricsAsync()
    {
        _runMetrics = await Registry.LatestRunMetricsAsync(_versions.Select(v => v.Version.RunId));
        _metricKeys = [.. _runMetrics.Values.SelectMany(m => m.Keys).GroupBy(k => k, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(MetricColumns).Select(g => g.Key)];
    }

    private double? MetricOf(ModelVersion version, string key) =>
        version.RunId is { } run && _runMetrics.TryGetValue(run, out var metrics) && metrics.TryGetValue(key, out var value) ? value : null;

    private async Task MoreVersionsAsync()
    {
        if (_moreVersions is null)
        {
            return;
        }
        var page = await Registry.SearchModelVersionsAsync(new ModelVersionSearchRequest(
            $"name = {ExperimentsPage.Quote(Name)}", VersionPage, ["version_number DESC"], _moreVersions));
        _versions.AddRange(page.Items);
        _moreVersions = page.NextPageToken;
        await LoadRunMetricsAsync();
    }

    private async Task LoadHistoryAsync()
    {
        var page = await Registry.GetHistoryAsync(Name, null, HistoryPage, null);
        _history = [.. page.Items];
        _moreHistory = page.NextPageToken;
    }

    private async Task MoreHistoryAsync()
    {
        if (_moreHistory is null)
        {
            return;
        }
        var page = await Registry.GetHistoryAsync(Name, null, HistoryPage, _moreHistory);
        _history.AddRange(page.Items);
        _moreHistory = page.NextPageToken;
    }

    /// <summary>
    /// The version the address names, else the Production version, else the newest; then its card. Only versions of
    /// this server's store have one: the server never fetches a legacy <c>s3://</c> or <c>https://</c> source.
    /// </summary>
    private async Task SelectAsync()
    {
        if (_model is null)
        {
            return;
        }
        var wanted = Version is { } v ? _versions.FirstOrDefault(x => x.Version.Version == v) : null;
        wanted ??= _model.LatestVersions.FirstOrDefault(x => x.Version.CurrentStage == ModelStage.Production) is { } production
            ? _versions.FirstOrDefault(x => x.Version.Version == production.Version.Version)
            : null;
        wanted ??= _versions.FirstOrDefault();
        var changed = wanted?.Version.Version != _selected?.Version.Version;
        _selected = wanted;
        if (changed)
        {
            _stageError = null;
            _aliasVersion = wanted?.Version.Version.ToString(CultureInfo.InvariantCulture);
        }
        _card = null;
        _cardMessage = null;
        if (wanted is null)
        {
            return;
        }
        try
        {
            _card = await Cards.GetForStorageLocationAsync(wanted.Version.StorageLocation, wanted.Version.RunId, wanted.Version.ModelId);
            _cardMessage = _card is null ? $"The version's files are at {wanted.Version.StorageLocation}, outside this server's artifact store: no card." : null;
        }
        catch (Exception e) when (e is MlflowException or ArtifactStoreException)
        {
            _cardMessage = $"The model card could not be read: {e.Message}";
        }
    }

    private string VersionHref(int version) => RegistryLinks.Model(Name) + "?version=" + version.ToString(CultureInfo.InvariantCulture);

    private IEnumerable<string> AliasesOf(int version) =>
        _model is null ? [] : _model.Model.Aliases.Where(a => a.Version == version).Select(a => a.Alias).Order(StringComparer.Ordinal);

    // ---- Changes -----------------------------------------------------------------------------------------------

    private async Task TransitionAsync(string stage)
    {
        if (_selected is null)
        {
            return;
        }
        var version = _selected.Version.Version.ToString(CultureInfo.InvariantCulture);
        _stageError = await ChangeAsync(async () =>
            { await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit); await Access.GuardDirectChangeAsync(Name, version, Dashboard.Governance.PromotionTargetKind.Stage, stage); await Registry.TransitionStageAsync(Name, version, stage, _archiveExisting, await Actors.GetAsync()); });
    }

    private async Task SetAliasAsync()
    {
        _aliasError = await ChangeAsync(async () => { await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit); await Access.GuardDirectChangeAsync(Name, _aliasVersion, Dashboard.Governance.PromotionTargetKind.Alias, _aliasName ?? ""); await Registry.SetAliasAsync(Name, _aliasName, _aliasVersion, await Actors.GetAsync()); });
        if (_aliasError is null)
        {
            _aliasName = null;
        }
    }

    private async Task DeleteAliasAsync(string alias) =>
        _aliasError = await ChangeAsync(async () => { await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Manage); await Access.GuardDirectChangeAsync(Name, null, Dashboard.Governance.PromotionTargetKind.Alias, alias); await Registry.DeleteAliasAsync(Name, alias, await Actors.GetAsync()); });

    // The tag editor calls Changed (RefreshAsync) after each of these succeeds.
    private async Task SetModelTagAsync(string key, string value)
    {
        await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit);
        await Registry.SetRegisteredModelTagAsync(Name, key, value);
    }

    private async Task DeleteModelTagAsync(string key)
    {
        await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit);
        await Registry.DeleteRegisteredModelTagAsync(Name, key);
    }

    private async Task SetVersionTagAsync(string key, string value)
    {
        await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit);
        await Registry.SetModelVersionTagAsync(Name, SelectedVersion, key, value);
    }

    private async Task DeleteVersionTagAsync(string key)
    {
        await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Manage);
        await Registry.DeleteModelVersionTagAsync(Name, SelectedVersion, key);
    }

    private string? SelectedVersion => _selected?.Version.Version.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs a change and reloads; answers the service's message when it refused, null when it was done.</summary>
    private async Task<string?> ChangeAsync(Func<Task> change)
    {
        _busy = true;
        try
        {
            await change();
            await RefreshAsync();
            return null;
        }
        catch (MlflowException e)
        {
            return e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task DescribeModelAsync()
    {
        var dialog = await Dialogs.ShowAsync<DescriptionDialog>("Description", new DialogParameters<DescriptionDialog>
        {
            { d => d.Title, $"Description of {Name}" },
            { d => d.Initial, _model?.Model.Description },
            { d => d.Submit, async text => { await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit); await Registry.UpdateRegisteredModelAsync(Name, text); } },
        });
        if (await dialog.Result is { Canceled: false })
        {
            await RefreshAsync();
        }
    }

    private async Task DescribeVersionAsync()
    {
        var version = SelectedVersion;
        var dialog = await Dialogs.ShowAsync<DescriptionDialog>("Description", new DialogParameters<DescriptionDialog>
        {
            { d => d.Title, $"Description of {Name} version {version}" },
            { d => d.Initial, _selected?.Version.Description },
            { d => d.Submit, async text => { await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit); await Registry.UpdateModelVersionAsync(Name, version, text); } },
        });
        if (await dialog.Result is { Canceled: false })
        {
            await RefreshAsync();
        }
    }

    private async Task RenameAsync()
    {
        string? renamed = null;
        var dialog = await Dialogs.ShowAsync<NameDialog>("Rename model", new DialogParameters<NameDialog>
        {
            { d => d.Title, "Rename registered model" },
            { d => d.Label, "New name" },
            { d => d.Action, "Rename" },
            { d => d.Initial, Name },
            { d => d.MaxLength, RegistryValidation.MaxNameLength },
            { d => d.Submit, async name => { await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Edit); renamed = (await Registry.RenameRegisteredModelAsync(Name, name)).Model.Name; } },
        });
        if (await dialog.Result is { Canceled: false } && renamed is not null)
        {
            Navigation.NavigateTo(RegistryLinks.Model(renamed));
        }
    }

    private async Task DeleteAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete model",
            $"Delete \"{Name}\" with all its versions, tags and aliases? This cannot be undone; its history stays in the audit trail.",
            yesText: "Delete", cancelText: "Cancel");
        if (confirmed == true)
        {
            try
            {
                await Access.RequireRegisteredModelAsync(Name, Dashboard.Security.AccessLevel.Manage);
                await Access.GuardDeletionAsync(Name, null);
                await Registry.DeleteRegisteredModelAsync(Name, await Actors.GetAsync());
                Navigation.NavigateTo("/models");
            }
            catch (MlflowException e)
            {
                _deleteError = e.Message;
            }
        }
    }
}
