using Dashboard.Components.Pages.Experiments;
using Dashboard.Components.Shared;
using Dashboard.Errors;
using Dashboard.Registry;
using Dashboard.Search;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Dashboard.Components.Pages.Models;

/// <summary>
/// The registered models: search by name and tag (registered-models/search through <see cref="RegistryService"/>, so
/// the list searches as the API does), the latest version of each stage, aliases, last update; create, rename, delete
/// and the description. The search lives in the URL (<c>?name=&amp;tag=</c>); pages follow the search's own tokens.
/// </summary>
public partial class ModelsPage
{
    public const int PageSize = 50;

    private List<RegisteredModelDetails> _models = [];
    // The token of each page shown so far (the first page has none): Previous pops, Next pushes the search's token.
    private readonly List<string?> _pages = [null];
    private string? _next;
    private string? _error;
    private bool _loaded;

    [SupplyParameterFromQuery(Name = "name")] public string? Name { get; set; }

    [SupplyParameterFromQuery(Name = "tag")] public string? Tag { get; set; }

    /// <summary>A Viewer sees no edit controls; the handlers refuse anyway.</summary>
    private bool _canWrite;

    protected override async Task OnInitializedAsync() => _canWrite = await Access.CanCreateAsync();

    /// <summary>The caller's permission on the shown models (one query per page, none for an Admin): description and
    /// rename need EDIT, delete MANAGE, as the API requires.</summary>
    private IReadOnlyDictionary<long, Dashboard.Security.AccessLevel> _levels = new Dictionary<long, Dashboard.Security.AccessLevel>();

    private bool CanEdit(RegisteredModel model) =>
        _canWrite && _levels.TryGetValue(model.Id, out var level) && level >= Dashboard.Security.AccessLevel.Edit;

    private bool CanDelete(RegisteredModel model) =>
        _canWrite && _levels.TryGetValue(model.Id, out var level) && level >= Dashboard.Security.AccessLevel.Manage;

    protected override async Task OnParametersSetAsync()
    {
        _pages.Clear();
        _pages.Add(null);
        await LoadAsync();
    }

    /// <summary>The search as a registered-models/search filter.</summary>
    internal static string BuildFilter(string? name, string? tag)
    {
        var terms = new List<string>();
        if (!string.IsNullOrWhiteSpace(name))
        {
            // LIKE's wildcards in the typed text are taken literally by nobody here: a name rarely holds % or _.
            terms.Add($"name ILIKE {ExperimentsPage.Quote("%" + name.Trim() + "%")}");
        }
        if (!string.IsNullOrWhiteSpace(tag))
        {
            var at = tag.IndexOf('=', StringComparison.Ordinal);
            var key = (at < 0 ? tag : tag[..at]).Trim();
            terms.Add(at < 0 ? $"tags.`{key}` ILIKE '%'" : $"tags.`{key}` = {ExperimentsPage.Quote(tag[(at + 1)..].Trim())}");
        }
        return string.Join(" AND ", terms);
    }

    private async Task LoadAsync()
    {
        _error = null;
        var filter = BuildFilter(Name, Tag);
        try
        {
            var page = await Registry.SearchRegisteredModelsAsync(new RegisteredModelSearchRequest(filter, PageSize, ["name ASC"], _pages[^1],
                await Access.ReadScopeAsync()));
            _models = [.. page.Items];
            _levels = await Access.RegisteredModelsAsync([.. _models.Select(m => m.Model.Id)]);
            _next = page.NextPageToken;
        }
        catch (MlflowException e)
        {
            // Only the tag box can make a bad filter (a key with a backtick, say): its message goes under it.
            _error = string.IsNullOrWhiteSpace(Tag) ? e.Message : $"Not a tag search: {e.Message}";
            _models = [];
            _next = null;
        }
        _loaded = true;
    }

    private async Task NextAsync()
    {
        if (_next is not null)
        {
            _pages.Add(_next);
            await LoadAsync();
        }
    }

    private async Task PreviousAsync()
    {
        if (_pages.Count > 1)
        {
            _pages.RemoveAt(_pages.Count - 1);
            await LoadAsync();
        }
    }

    private void Go(string? name, string? tag) =>
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(new Dictionary<string, object?>
        {
            ["name"] = string.IsNullOrEmpty(name) ? null : name,
            ["tag"] = string.IsNullOrEmpty(tag) ? null : tag,
        }), replace: true);

    private Task SetNameAsync(string? value)
    {
        Go(value, Tag);
        return Task.CompletedTask;
    }

    private Task SetTagAsync(string? value)
    {
        Go(Name, value);
        return Task.CompletedTask;
    }

    private async Task CreateAsync()
    {
        var actor = await Actors.GetAsync();
        string? created = null;
        var dialog = await Dialogs.ShowAsync<NameDialog>("New model", new DialogParameters<NameDialog>
        {
            { d => d.Title, "New registered model" },
            { d => d.Label, "Name" },
            { d => d.Action, "Create" },
            { d => d.MaxLength, RegistryValidation.MaxNameLength },
            { d => d.Submit, async name =>
                {
                    await Access.RequireCreateAsync();
                    created = (await Registry.CreateRegisteredModelAsync(name, null, null, actor)).Model.Name;
                    await Access.GrantCreatorOfRegisteredModelAsync(created);
                } },
        });
        if (await dialog.Result is { Canceled: false } && created is not null)
        {
            Navigation.NavigateTo(RegistryLinks.Model(created));
        }
    }

    private async Task RenameAsync(RegisteredModel model)
    {
        var dialog = await Dialogs.ShowAsync<NameDialog>("Rename model", new DialogParameters<NameDialog>
        {
            { d => d.Title, "Rename registered model" },
            { d => d.Label, "New name" },
            { d => d.Action, "Rename" },
            { d => d.Initial, model.Name },
            { d => d.MaxLength, RegistryValidation.MaxNameLength },
            { d => d.Submit, async name => { await Access.RequireRegisteredModelAsync(model.Name, Dashboard.Security.AccessLevel.Edit); await Registry.RenameRegisteredModelAsync(model.Name, name); } },
        });
        if (await dialog.Result is { Canceled: false })
        {
            await LoadAsync();
        }
    }

    private async Task DescribeAsync(RegisteredModel model)
    {
        var dialog = await Dialogs.ShowAsync<DescriptionDialog>("Description", new DialogParameters<DescriptionDialog>
        {
            { d => d.Title, $"Description of {model.Name}" },
            { d => d.Initial, model.Description },
            { d => d.Submit, async text => { await Access.RequireRegisteredModelAsync(model.Name, Dashboard.Security.AccessLevel.Edit); await Registry.UpdateRegisteredModelAsync(model.Name, text); } },
        });
        if (await dialog.Result is { Canceled: false })
        {
            await LoadAsync();
        }
    }

    private async Task DeleteAsync(RegisteredModel model)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete model",
            $"Delete \"{model.Name}\" with all its versions, tags and aliases? This cannot be undone; its history stays in the audit trail.",
            yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }
        try
        {
            await Access.RequireRegisteredModelAsync(model.Name, Dashboard.Security.AccessLevel.Manage);
            await Access.GuardDeletionAsync(model.Name, null);
            await Registry.DeleteRegisteredModelAsync(model.Name, await Actors.GetAsync());
            Snackbar.Add($"Deleted \"{model.Name}\".", Severity.Success);
        }
        catch (MlflowException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        await LoadAsync();
    }
}
