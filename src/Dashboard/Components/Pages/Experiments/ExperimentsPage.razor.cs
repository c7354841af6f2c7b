using Dashboard.Security;
using System.Globalization;
using Dashboard.Components.Shared;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Dashboard.Components.Pages.Experiments;

/// <summary>The experiment list: search by name and tag, run counts, last activity, create, rename, delete and restore.
/// The search lives in the URL (<c>?name=&amp;tag=&amp;deleted=true</c>).</summary>
public partial class ExperimentsPage
{
    private MudDataGrid<ExperimentSummary>? _grid;
    private string? _error;

    [SupplyParameterFromQuery(Name = "name")] public string? Name { get; set; }

    [SupplyParameterFromQuery(Name = "tag")] public string? Tag { get; set; }

    [SupplyParameterFromQuery(Name = "deleted")] public bool Deleted { get; set; }

    /// <summary>A Viewer (or a read token's circuit) sees no edit controls; the handlers refuse anyway.</summary>
    private bool _canWrite;

    /// <summary>The caller's permission on the shown page's experiments (one query per page load, none for an Admin):
    /// rename needs EDIT, delete and restore MANAGE, as the API requires.</summary>
    private IReadOnlyDictionary<long, AccessLevel> _levels = new Dictionary<long, AccessLevel>();

    protected override async Task OnInitializedAsync() => _canWrite = await Access.CanCreateAsync();

    private bool Can(Experiment experiment, AccessLevel needed) =>
        _canWrite && _levels.TryGetValue(experiment.Id, out var level) && level >= needed;

    private bool CanRename(Experiment experiment) => Can(experiment, AccessLevel.Edit);

    /// <summary>Delete and restore.</summary>
    private bool CanDelete(Experiment experiment) => Can(experiment, AccessLevel.Manage);

    protected override async Task OnParametersSetAsync()
    {
        // Query parameters changed by navigation (back, forward, a link): show what the address says.
        if (_grid is not null)
        {
            await _grid.ReloadServerData();
        }
    }

    /// <summary>The search as an experiments/search filter: the list searches as the API does.</summary>
    internal static string BuildFilter(string? name, string? tag)
    {
        var terms = new List<string>();
        if (!string.IsNullOrWhiteSpace(name))
        {
            terms.Add($"name ILIKE {Quote("%" + name.Trim() + "%")}");
        }
        if (!string.IsNullOrWhiteSpace(tag))
        {
            var at = tag.IndexOf('=', StringComparison.Ordinal);
            var key = (at < 0 ? tag : tag[..at]).Trim();
            terms.Add(at < 0 ? $"tags.`{key}` ILIKE '%'" : $"tags.`{key}` = {Quote(tag[(at + 1)..].Trim())}");
        }
        return string.Join(" AND ", terms);
    }

    /// <summary>A filter string literal: SQL's doubled quote escapes a quote (FilterParser reads it so).</summary>
    internal static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private async Task<GridData<ExperimentSummary>> LoadAsync(GridState<ExperimentSummary> state, CancellationToken ct)
    {
        _error = null;
        var filter = BuildFilter(Name, Tag);
        if (!FilterParser.TryParse(filter, SearchScope.Experiments, out _, out var error))
        {
            _error = string.IsNullOrWhiteSpace(Tag) ? error.Message : $"Not a tag search: {error.Message}";
            return new GridData<ExperimentSummary> { Items = [], TotalItems = 0 };
        }
        var (page, total) = await List.PageAsync(filter, Deleted ? ViewType.DeletedOnly : ViewType.ActiveOnly,
            ["last_update_time DESC"], state.Page * state.PageSize, state.PageSize, await Access.ReadScopeAsync(), ct);
        _levels = await Access.ExperimentsAsync(page.Select(e => e.Experiment.Id).ToList(), ct);
        return new GridData<ExperimentSummary> { Items = page, TotalItems = (int)Math.Min(total, int.MaxValue) };
    }

    private void Go(string? name, string? tag, bool deleted) =>
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(new Dictionary<string, object?>
        {
            ["name"] = string.IsNullOrEmpty(name) ? null : name,
            ["tag"] = string.IsNullOrEmpty(tag) ? null : tag,
            ["deleted"] = deleted ? "true" : null,
        }), replace: true);

    private Task SetNameAsync(string? value)
    {
        Go(value, Tag, Deleted);
        return Task.CompletedTask;
    }

    private Task SetTagAsync(string? value)
    {
        Go(Name, value, Deleted);
        return Task.CompletedTask;
    }

    private Task SetDeletedAsync(bool value)
    {
        Go(Name, Tag, value);
        return Task.CompletedTask;
    }

    private async Task CreateAsync()
    {
        long id = 0;
        var dialog = await Dialogs.ShowAsync<NameDialog>("New experiment", new DialogParameters<NameDialog>
        {
            { d => d.Title, "New experiment" },
            { d => d.Label, "Name" },
            { d => d.Action, "Create" },
            { d => d.Submit, async name =>
                {
                    await Access.RequireCreateAsync();
                    id = await Experiments.CreateExperimentAsync(name, null, null);
                    await Access.GrantCreatorOfExperimentAsync(id);
                } },
        });
        if (await dialog.Result is { Canceled: false })
        {
            Navigation.NavigateTo($"/experiments/{id}");
        }
    }

    private async Task RenameAsync(Experiment experiment)
    {
        var dialog = await Dialogs.ShowAsync<NameDialog>("Rename experiment", new DialogParameters<NameDialog>
        {
            { d => d.Title, "Rename experiment" },
            { d => d.Label, "New name" },
            { d => d.Action, "Rename" },
            { d => d.Initial, experiment.Name },
            { d => d.Submit, async name =>
                {
                    await Access.RequireExperimentAsync(experiment.Id, AccessLevel.Edit);
                    await Experiments.RenameExperimentAsync(experiment.Id.ToString(CultureInfo.InvariantCulture), name);
                } },
        });
        if (await dialog.Result is { Canceled: false })
        {
            await ReloadAsync();
        }
    }

    private async Task DeleteAsync(Experiment experiment)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete experiment",
            $"Delete \"{experiment.Name}\" and its runs? It can be restored from the deleted experiments.", yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }
        await ActAsync(async () =>
        {
            await Access.RequireExperimentAsync(experiment.Id, AccessLevel.Manage);
            await Experiments.DeleteExperimentAsync(experiment.Id.ToString(CultureInfo.InvariantCulture));
        }, $"Deleted \"{experiment.Name}\".");
    }

    private Task RestoreAsync(Experiment experiment) =>
        ActAsync(async () =>
        {
            await Access.RequireExperimentAsync(experiment.Id, AccessLevel.Manage);
            await Experiments.RestoreExperimentAsync(experiment.Id.ToString(CultureInfo.InvariantCulture));
        }, $"Restored \"{experiment.Name}\".");

    private async Task ActAsync(Func<Task> action, string done)
    {
        try
        {
            await action();
            Snackbar.Add(done, Severity.Success);
        }
        catch (MlflowException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        await ReloadAsync();
    }

    private Task ReloadAsync() => _grid?.ReloadServerData() ?? Task.CompletedTask;
}
