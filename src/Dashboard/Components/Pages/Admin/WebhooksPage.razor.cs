using System.Globalization;
using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Governance;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Dashboard.Components.Pages.Admin;

public sealed partial class WebhooksPage : IDisposable
{
    /// <summary>How often a shown delivery log is re-read while it holds a Pending delivery, and for how long at most.</summary>
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RefreshFor = TimeSpan.FromMinutes(2);

    private readonly CancellationTokenSource _disposed = new();
    private readonly HashSet<long> _expanded = [];
    private readonly HashSet<string> _events = [.. WebhookEvents.All];
    private bool? _allowed;
    private IReadOnlyList<WebhookView> _webhooks = [];
    private WebhookView? _selected;
    private List<WebhookDeliveryView> _deliveries = [];
    private string? _nextPage;
    private WebhookWithSecret? _secret;
    private string? _error;
    private string? _message;
    private string? _copyStatus;
    private string? _name;
    private string? _url;
    private string? _model;
    private bool _allEvents = true;
    private bool _refreshing;

    [Inject] private PageAccess Access { get; set; } = null!;
    [Inject] private WebhookService Webhooks { get; set; } = null!;
    [Inject] private IDialogService Dialogs { get; set; } = null!;
    [Inject] private IJSRuntime JS { get; set; } = null!;

    protected override async Task OnInitializedAsync()
    {
        _allowed = await IsAdminAsync();
        if (_allowed == true)
        {
            await ActAsync(ReloadAsync);
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

    private async Task ReloadAsync() => _webhooks = await Webhooks.ListAsync(await Access.CallerAsync(), _disposed.Token);

    private void ToggleEvent(string e, ChangeEventArgs change)
    {
        if (change.Value is true)
        {
            _events.Add(e);
        }
        else
        {
            _events.Remove(e);
        }
    }

    private Task CreateAsync() => ActAsync(async () =>
    {
        IReadOnlyList<string> events = _allEvents ? ["*"] : [.. WebhookEvents.All.Where(_events.Contains)];
        _secret = await Webhooks.CreateAsync(new WebhookInput(_name ?? "", _url ?? "", events, _model), await Access.CallerAsync(),
            _disposed.Token);
        _copyStatus = null;
        (_name, _url, _model) = (null, null, null);
        await ReloadAsync();
    });

    private Task SetEnabledAsync(WebhookView w, ChangeEventArgs change) => ActAsync(async () =>
    {
        var enabled = change.Value is true;
        await Webhooks.UpdateAsync(w.Id, new WebhookInput(Enabled: enabled), await Access.CallerAsync(), _disposed.Token);
        _message = enabled ? $"\"{w.Name}\" is enabled: its waiting deliveries go out now." : $"\"{w.Name}\" is paused: its deliveries wait.";
        await ReloadAsync();
    });

    private async Task RotateAsync(WebhookView w)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Rotate secret",
            $"Give \"{w.Name}\" a new secret? The receiver must be given it: later deliveries are signed with it only.",
            yesText: "Rotate", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }
        await ActAsync(async () =>
        {
            _secret = await Webhooks.RotateSecretAsync(w.Id, await Access.CallerAsync(), _disposed.Token);
            _copyStatus = null;
            await ReloadAsync();
        });
    }

    private async Task DeleteAsync(WebhookView w)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete webhook",
            $"Delete \"{w.Name}\" and its delivery log? Deliveries not yet sent are dropped.", yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }
        await ActAsync(async () =>
        {
            await Webhooks.DeleteAsync(w.Id, await Access.CallerAsync(), _disposed.Token);
            _message = $"Deleted \"{w.Name}\".";
            if (_selected?.Id == w.Id)
            {
                _selected = null;
                _deliveries = [];
            }
            await ReloadAsync();
        });
    }

    private Task SendTestAsync(WebhookView w) => ActAsync(async () =>
    {
        await Webhooks.SendTestAsync(w.Id, await Access.CallerAsync(), _disposed.Token);
        _message = w.Enabled ? $"A test event is on its way to \"{w.Name}\"." : $"A test event waits until \"{w.Name}\" is enabled.";
        await LoadDeliveriesAsync(w);
    });

    private Task ShowDeliveriesAsync(WebhookView w) => ActAsync(() => LoadDeliveriesAsync(w));

    private Task RefreshDeliveriesAsync() => _selected is { } w ? ActAsync(() => LoadDeliveriesAsync(w)) : Task.CompletedTask;

    private Task MoreDeliveriesAsync() => ActAsync(async () =>
    {
        if (_selected is { } w && _nextPage is { } token)
        {
            var page = await Webhooks.ListDeliveriesAsync(w.Id, null, token, await Access.CallerAsync(), _disposed.Token);
            _deliveries.AddRange(page.Items);
            _nextPage = page.NextPageToken;
        }
    });

    private Task RedeliverAsync(WebhookDeliveryView d) => ActAsync(async () =>
    {
        await Webhooks.RedeliverAsync(d.Id, await Access.CallerAsync(), _disposed.Token);
        _message = $"Delivery {d.Id} is queued again.";
        if (_selected is { } w)
        {
            await LoadDeliveriesAsync(w);
        }
    });

    private void ToggleExpanded(long id)
    {
        if (!_expanded.Remove(id))
        {
            _expanded.Add(id);
        }
    }

    private async Task LoadDeliveriesAsync(WebhookView w)
    {
        if (_selected?.Id != w.Id)
        {
            _expanded.Clear();
        }
        _selected = w;
        var page = await Webhooks.ListDeliveriesAsync(w.Id, null, null, await Access.CallerAsync(), _disposed.Token);
        _deliveries = [.. page.Items];
        _nextPage = page.NextPageToken;
        if (_deliveries.Any(d => d.State == DeliveryState.Pending) && !_refreshing)
        {
            _ = RefreshWhilePendingAsync();
        }
    }

    /// <summary>Re-reads the shown log every second while it holds a Pending delivery (at most two minutes), so a result shows up by itself.</summary>
    private async Task RefreshWhilePendingAsync()
    {
        _refreshing = true;
        try
        {
            var until = DateTimeOffset.UtcNow + RefreshFor;
            while (DateTimeOffset.UtcNow < until && _selected is { } w && _deliveries.Any(d => d.State == DeliveryState.Pending))
            {
                await Task.Delay(RefreshEvery, _disposed.Token);
                await InvokeAsync(async () =>
                {
                    await ActAsync(() => _selected?.Id == w.Id ? ReloadLogAsync(w) : Task.CompletedTask);
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page was left.
        }
        finally
        {
            _refreshing = false;
        }
    }

    /// <summary>Re-reads the first page (the older pages the person loaded stay as they are).</summary>
    private async Task ReloadLogAsync(WebhookView w)
    {
        var page = await Webhooks.ListDeliveriesAsync(w.Id, null, null, await Access.CallerAsync(), _disposed.Token);
        var older = _deliveries.Where(d => page.Items.Count > 0 && d.Id < page.Items[^1].Id).ToList();
        _deliveries = [.. page.Items, .. older];
        if (older.Count == 0)
        {
            _nextPage = page.NextPageToken;
        }
    }

    private async Task CopySecretAsync()
    {
        if (_secret is null)
        {
            return;
        }
        // The browser may refuse (no permission, an insecure origin): the secret stays shown for a manual copy.
        _copyStatus = await JS.InvokeAsync<bool>("dashboard.copy", _secret.Secret) ? "Copied." : "The browser did not allow copying; select the text instead.";
    }

    private static string Seconds(long epochMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(epochMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Every action checks the caller again (the circuit may outlive a role change) and shows a refusal as a message.</summary>
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

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
