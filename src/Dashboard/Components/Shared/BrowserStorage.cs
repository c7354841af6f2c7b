using Microsoft.JSInterop;

namespace Dashboard.Components.Shared;

/// <summary>
/// The browser's localStorage, for preferences that belong to a person's browser rather than to a shared link: the
/// theme, and the columns last chosen per experiment. Scoped: one per circuit.
/// </summary>
public sealed class BrowserStorage(IJSRuntime js)
{
    public async Task<string?> GetAsync(string key)
    {
        try
        {
            return await js.InvokeAsync<string?>("dashboard.get", key);
        }
        catch (JSDisconnectedException)
        {
            return null;
        }
    }

    public async Task SetAsync(string key, string? value)
    {
        try
        {
            await js.InvokeVoidAsync("dashboard.set", key, value);
        }
        catch (JSDisconnectedException)
        {
            // The tab is gone; nothing to remember for it.
        }
    }
}
