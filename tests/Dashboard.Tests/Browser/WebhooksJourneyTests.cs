using System.Text.RegularExpressions;
using Dashboard.Core.Tests.Support;
using Dashboard.Governance;
using Dashboard.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// The webhooks page in Debian's Chromium against the real server and a receiver on loopback: an Admin creates a
/// webhook, sees its secret once, sends a test event, and watches the delivery turn Delivered in the log; the receiver
/// verifies the signature with the secret the page showed.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed partial class WebhooksJourneyTests(BrowserFixture browser)
{
    [Fact]
    public async Task An_admin_creates_a_webhook_sees_its_secret_once_sends_a_test_and_sees_it_delivered()
    {
        await using var receiver = TestReceiver.Start();
        await using var server = await DashboardServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Dashboard:Webhooks:PollSeconds"] = "0.2",
        });
        var page = await browser.NewPageAsync();
        try
        {
            await JourneyAsync(server, receiver, page);
        }
        catch
        {
            await page.SnapAsync(nameof(An_admin_creates_a_webhook_sees_its_secret_once_sends_a_test_and_sees_it_delivered));
            throw;
        }
    }

    private static async Task JourneyAsync(DashboardServer server, TestReceiver receiver, IPage page)
    {
        // Markup in the name shows as text.
        var name = $"<b>deploys</b> {Guid.NewGuid():N}"[..30];
        await page.OpenAsync(server.Address, "/");
        await page.TestId("nav-webhooks").ClickAsync();
        await Expect(page.TestId("no-webhooks")).ToBeVisibleAsync();

        await page.TestId("webhook-name").FillAsync(name);
        await page.TestId("webhook-url").FillAsync(receiver.Url);
        await page.TestId("webhook-create").ClickAsync();

        await Expect(page.TestId("webhook-secret")).ToHaveTextAsync(SecretPattern());
        var secret = (await page.TestId("webhook-secret").TextContentAsync())!.Trim();
        var row = page.TestId("webhook-row").Filter(new() { HasText = name });
        await Expect(row.Locator("[data-testid='webhook-row-name']")).ToHaveTextAsync(name);
        await Expect(row).ToContainTextAsync(secret[..8] + "…");
        var id = await row.GetAttributeAsync("data-webhook-id");

        // Shown once: gone when dismissed, and not on the page when it is opened again.
        await page.TestId("webhook-secret-dismiss").ClickAsync();
        await Expect(page.TestId("webhook-secret")).ToHaveCountAsync(0);
        await page.OpenAsync(server.Address, "/admin/webhooks");
        await Expect(page.TestId("webhook-row")).ToHaveCountAsync(1);
        (await page.ContentAsync()).ShouldNotContain(secret);

        await page.TestId($"webhook-test:{id}").ClickAsync();

        await Expect(page.TestId("delivery-row")).ToHaveCountAsync(1);
        await Expect(page.TestId("delivery-state")).ToHaveTextAsync(DeliveryState.Delivered, new() { Timeout = 20_000 });
        await Expect(page.TestId("delivery-attempts")).ToHaveTextAsync("1");
        await page.TestId("delivery-expand").ClickAsync();
        await Expect(page.TestId("delivery-attempt")).ToHaveCountAsync(1);
        await Expect(page.TestId("delivery-attempt")).ToContainTextAsync("200");
        await Expect(page.TestId("delivery-payload")).ToContainTextAsync(WebhookEvents.Test);

        var request = receiver.Requests.ShouldHaveSingleItem();
        request.Header("Dashboard-Event").ShouldBe(WebhookEvents.Test);
        WebhookSignature.Verify(secret, request.Header("Dashboard-Signature"), request.Body, DateTimeOffset.UtcNow).ShouldBeTrue();
    }

    [GeneratedRegex("^whsec_[A-Za-z0-9_-]{43}$")]
    private static partial Regex SecretPattern();
}
