using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dashboard.Core.Tests.Support;
using Dashboard.Governance;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// Issue 7's "Done when", end to end in Oidc mode: a model with version 1 in Production and a better version 2, a policy
/// that protects Production (one approval, a metric gate) and a webhook to a receiver on loopback. alice (a Contributor)
/// requests Production for version 2 from its page and sees the gate pass; petra (an Approver through the group
/// approvers) finds the request in her inbox, weighs the evidence and approves it with a comment; the model page then
/// shows version 2 in Production and version 1 Archived, the timeline says who asked, who approved and why, the receiver
/// got a signed model_version.stage_changed, and alice's token cannot move a version to Production over MLflow's REST.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed partial class PromotionJourneyTests(BrowserFixture browser)
{
    private const string WebhookSecret = "whsec_promotion-journey-secret-0123456789";

    /// <summary>petra's group approvers maps to the Approver role; ml-team (alice, sam, petra) gets EDIT on the model.</summary>
    private static readonly Dictionary<string, string> ApproverGroup = new()
    {
        ["Dashboard:Auth:Oidc:Roles:Approver:0"] = "approvers",
        ["Dashboard:Webhooks:PollSeconds"] = "1",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_contributor_requests_production_an_approver_approves_from_the_inbox_and_the_change_is_applied_audited_and_announced()
    {
        await using var provider = await TestOidcProvider.StartAsync();
        await using var server = await provider.StartDashboardAsync(ApproverGroup);
        await using var receiver = TestReceiver.Start();
        var seeder = await SeederTokenAsync(server);
        var name = $"churn-model-{Guid.NewGuid():N}"[..24];
        await SeedModelAsync(server, seeder, name);
        await SetPolicyAsync(server, seeder, name);
        (await SendAsync(server, seeder, HttpMethod.Post, "/api/v1/webhooks", new
        {
            name = "journey receiver",
            url = receiver.Url,
            events = new[] { WebhookEvents.StageChanged },
            model_name = name,
            secret = WebhookSecret,
        })).StatusCode.ShouldBe(HttpStatusCode.Created);

        // alice asks for Production from version 2's page; the gate passes live, the target shows as protected.
        long requestId;
        var page = await browser.NewPageAsync();
        try
        {
            await provider.OpenSignedInAsync(page, server, VersionPath(name, 2), "alice");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("alice (Contributor)");
            await Expect(page.TestId("version-title")).ToContainTextAsync("version 2");
            await Expect(page.Locator("[data-testid='version-metric'][data-key='val_accuracy']")).ToContainTextAsync("0.95");
            await page.TestId("target-stage:Production").ClickAsync();
            await Expect(page.TestId("request-protected")).ToHaveAttributeAsync("data-protected", "yes");
            await Expect(page.TestId("gate")).ToHaveCountAsync(1);
            await Expect(page.TestId("gate")).ToHaveAttributeAsync("data-passed", "true");
            await Expect(page.Locator("input[data-testid='request-archive']")).ToBeCheckedAsync();
            await page.Locator("textarea[data-testid='request-comment']").FillAsync("v2 beats v1 on validation accuracy");
            await page.TestId("request-submit").ClickAsync();
            await page.WaitForURLAsync(RequestUrl(), new() { WaitUntil = WaitUntilState.Commit });
            requestId = long.Parse(RequestUrl().Match(page.Url).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            await Expect(page.TestId("request-state")).ToHaveAttributeAsync("data-state", PromotionState.Pending);
            await Expect(page.TestId("request-requester")).ToHaveTextAsync("alice");
            // Nobody approves their own request.
            await Expect(page.TestId("approve")).ToHaveCountAsync(0);
        }
        catch
        {
            await page.SnapAsync(nameof(A_contributor_requests_production_an_approver_approves_from_the_inbox_and_the_change_is_applied_audited_and_announced) + "-alice");
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        // petra finds it in her inbox, reads the evidence beside version 1's, and approves with a comment.
        page = await browser.NewPageAsync();
        try
        {
            await provider.OpenSignedInAsync(page, server, "/approvals", "petra");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("petra (Approver)");
            await Expect(page.TestId("nav-approvals-count")).ToHaveTextAsync("1");
            var row = page.Locator($"[data-testid='request-row'][data-id='{requestId}']");
            await Expect(row.TestIdIn("request-row-target")).ToHaveTextAsync("stage Production");
            await Expect(row.TestIdIn("request-row-gates")).ToHaveTextAsync("1/1");
            await row.TestIdIn("request-link").ClickAsync();
            await page.WaitForURLAsync(RequestUrl(), new() { WaitUntil = WaitUntilState.Commit });
            await Expect(page.TestId("evidence-holder")).ToContainTextAsync("version 1");
            var accuracy = page.Locator("[data-testid='evidence-metric'][data-key='val_accuracy']");
            await Expect(accuracy).ToHaveAttributeAsync("data-better", "better");
            await Expect(accuracy).ToContainTextAsync("+0.05");
            await Expect(page.Locator("[data-testid='evidence-param'][data-key='lr']")).ToHaveAttributeAsync("data-changed", "yes");
            await Expect(page.Locator("[data-testid='evidence-param'][data-key='epochs']")).ToHaveAttributeAsync("data-changed", "no");
            await page.Locator("textarea[data-testid='review-comment']").FillAsync("Checked the holdout numbers, ship it");
            await page.TestId("approve").ClickAsync();
            await Expect(page.TestId("request-state")).ToHaveAttributeAsync("data-state", PromotionState.Approved);
            await Expect(page.TestId("review-who")).ToHaveTextAsync("petra");
            await Expect(page.TestId("review-text")).ToHaveTextAsync("Checked the holdout numbers, ship it");

            // The registry changed: version 2 in Production, version 1 archived.
            await page.OpenAsync(server.Address, "/models/" + Uri.EscapeDataString(name));
            await Expect(page.Locator("[data-testid='version-row'][data-version='2'] [data-testid='stage-chip']")).ToHaveAttributeAsync("data-stage", "Production");
            await Expect(page.Locator("[data-testid='version-row'][data-version='1'] [data-testid='stage-chip']")).ToHaveAttributeAsync("data-stage", "Archived");

            // The timeline says who asked, who approved, when and why.
            await page.OpenAsync(server.Address, "/models/" + Uri.EscapeDataString(name) + "/timeline");
            var promoted = page.Locator("[data-testid='timeline-entry'][data-kind='promoted']");
            await Expect(promoted).ToHaveCountAsync(1);
            await Expect(promoted.TestIdIn("timeline-summary")).ToHaveTextAsync("Version 2 → Production by petra");
            await Expect(promoted).ToContainTextAsync("requested by alice");
            await Expect(promoted).ToContainTextAsync("v2 beats v1 on validation accuracy");
            await Expect(promoted).ToContainTextAsync("approved by petra");
            await Expect(promoted).ToContainTextAsync("archived version 1");
            await Expect(promoted).ToContainTextAsync(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            await page.SnapAsync(nameof(A_contributor_requests_production_an_approver_approves_from_the_inbox_and_the_change_is_applied_audited_and_announced) + "-petra");
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        // The receiver got the stage change of version 2, signed with the webhook's secret.
        var received = await receiver.WaitForAsync(rs => rs.Any(r => IsPromotionOf(r, 2)), TimeSpan.FromSeconds(30));
        var delivery = received.First(r => IsPromotionOf(r, 2));
        WebhookSignature.Verify(WebhookSecret, delivery.Header("Dashboard-Signature"), delivery.Body, DateTimeOffset.UtcNow).ShouldBeTrue();
        WebhookSignature.Verify("whsec_some-other-secret-0123456789", delivery.Header("Dashboard-Signature"), delivery.Body, DateTimeOffset.UtcNow)
            .ShouldBeFalse();
        var data = JsonNode.Parse(delivery.Text)!["data"]!;
        data["from_stage"]!.GetValue<string>().ShouldBe("None");
        data["actor"]!.GetValue<string>().ShouldBe("petra");
        data["request_id"]!.GetValue<long>().ShouldBe(requestId);

        // Around the flow, alice's token cannot make another version Production over MLflow's REST API.
        var aliceToken = await PersonTokenAsync(server, "alice");
        var version3 = await RegisterVersionAsync(server, seeder, name, 0.97, "0.003");
        var direct = await SendAsync(server, aliceToken, HttpMethod.Post, "/api/2.0/mlflow/model-versions/transition-stage",
            new { name, version = version3, stage = "Production", archive_existing_versions = true });
        var text = await direct.Content.ReadAsStringAsync(Ct);
        direct.StatusCode.ShouldBe(HttpStatusCode.Forbidden, text);
        JsonNode.Parse(text)!["error_code"]!.GetValue<string>().ShouldBe("PERMISSION_DENIED");
        var production = await SendAsync(server, seeder, HttpMethod.Get,
            $"/api/2.0/mlflow/model-versions/get?name={Uri.EscapeDataString(name)}&version=2", null);
        JsonNode.Parse(await production.Content.ReadAsStringAsync(Ct))!["model_version"]!["current_stage"]!.GetValue<string>().ShouldBe("Production");
    }

    [Fact]
    public async Task An_approver_is_not_offered_to_approve_her_own_request_while_another_approver_is()
    {
        // Here ml-team are Approvers: alice may approve, only not her own request.
        await using var provider = await TestOidcProvider.StartAsync();
        await using var server = await provider.StartDashboardAsync(new Dictionary<string, string>
        {
            ["Dashboard:Auth:Oidc:Roles:Approver:0"] = "ml-team",
        });
        var seeder = await SeederTokenAsync(server);
        var name = $"self-review-{Guid.NewGuid():N}"[..24];
        await SeedModelAsync(server, seeder, name);
        await SetPolicyAsync(server, seeder, name);

        string requestPath;
        var page = await browser.NewPageAsync();
        try
        {
            await provider.OpenSignedInAsync(page, server, VersionPath(name, 2), "alice");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("alice (Approver)");
            await page.TestId("target-stage:Production").ClickAsync();
            await Expect(page.TestId("gate")).ToHaveAttributeAsync("data-passed", "true");
            await page.Locator("textarea[data-testid='request-comment']").FillAsync("please review");
            await page.TestId("request-submit").ClickAsync();
            await page.WaitForURLAsync(RequestUrl(), new() { WaitUntil = WaitUntilState.Commit });
            requestPath = new Uri(page.Url).AbsolutePath;
            await Expect(page.TestId("request-state")).ToHaveAttributeAsync("data-state", PromotionState.Pending);
            await Expect(page.TestId("cancel-request")).ToHaveCountAsync(1);
            await Expect(page.TestId("approve")).ToHaveCountAsync(0);
            await Expect(page.TestId("reject")).ToHaveCountAsync(0);
            // Her own request is not in her inbox either.
            await page.OpenAsync(server.Address, "/approvals");
            await Expect(page.TestId("requests-none")).ToHaveCountAsync(1);
            await Expect(page.TestId("request-row")).ToHaveCountAsync(0);
        }
        catch
        {
            await page.SnapAsync(nameof(An_approver_is_not_offered_to_approve_her_own_request_while_another_approver_is) + "-alice");
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        // sam, an Approver too, is offered both decisions on it.
        page = await browser.NewPageAsync();
        try
        {
            await provider.OpenSignedInAsync(page, server, requestPath, "sam");
            await Expect(page.TestId("approve")).ToHaveCountAsync(1);
            await Expect(page.TestId("reject")).ToHaveCountAsync(1);
            await Expect(page.TestId("cancel-request")).ToHaveCountAsync(0);
        }
        catch
        {
            await page.SnapAsync(nameof(An_approver_is_not_offered_to_approve_her_own_request_while_another_approver_is) + "-sam");
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [GeneratedRegex(@"/promotions/(\d+)$")]
    private static partial Regex RequestUrl();

    private static string VersionPath(string name, int version) => $"/models/{Uri.EscapeDataString(name)}/versions/{version}";

    private static bool IsPromotionOf(ReceivedRequest r, int version)
    {
        var body = JsonNode.Parse(r.Text);
        return body?["type"]?.GetValue<string>() == WebhookEvents.StageChanged
            && body["data"]?["version"]?.GetValue<int>() == version
            && body["data"]?["to_stage"]?.GetValue<string>() == "Production";
    }

    /// <summary>A token of an Admin service account, for seeding over the APIs.</summary>
    private static async Task<string> SeederTokenAsync(DashboardServer server)
    {
        var users = server.Services.GetRequiredService<UserDirectory>();
        var tokens = server.Services.GetRequiredService<TokenService>();
        var seeder = await users.EnsureServiceAccountAsync("seeder", DashboardRole.Admin, Ct);
        return (await tokens.CreateAsync(seeder.Id, "journey", TokenScope.Admin, null, "test", Ct)).Secret;
    }

    /// <summary>A write token of a person who has signed in.</summary>
    private static async Task<string> PersonTokenAsync(DashboardServer server, string person)
    {
        var user = await server.Services.GetRequiredService<UserDirectory>().FindByNameAsync(person, Ct);
        user.ShouldNotBeNull();
        return (await server.Services.GetRequiredService<TokenService>().CreateAsync(user.Id, "cli", TokenScope.Write, null, person, Ct)).Secret;
    }

    /// <summary>
    /// The model over the MLflow API: version 1 (val_accuracy 0.90, lr 0.01) in Production, version 2 (0.95, lr 0.005)
    /// registered; ml-team may edit it.
    /// </summary>
    private static async Task SeedModelAsync(DashboardServer server, string token, string name)
    {
        await (await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/registered-models/create", new { name })).ShouldBeOkayAsync();
        await (await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/registered-models/permissions/create",
            new { name, group_name = "ml-team", permission = "EDIT" })).ShouldBeOkayAsync();
        var v1 = await RegisterVersionAsync(server, token, name, 0.90, "0.01");
        await (await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/model-versions/transition-stage",
            new { name, version = v1, stage = "Production", archive_existing_versions = false })).ShouldBeOkayAsync();
        (await RegisterVersionAsync(server, token, name, 0.95, "0.005")).ShouldBe("2");
    }

    /// <summary>A run (its metric and params) in a new experiment, and a version registered from it; answers the version.</summary>
    private static async Task<string> RegisterVersionAsync(DashboardServer server, string token, string name, double accuracy, string lr)
    {
        var experiment = await JsonAsync(await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/experiments/create",
            new { name = $"{name}-{Guid.NewGuid():N}" }));
        var run = await JsonAsync(await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/runs/create",
            new { experiment_id = experiment["experiment_id"]!.GetValue<string>(), run_name = $"train-{lr}" }));
        var runId = run["run"]!["info"]!["run_id"]!.GetValue<string>();
        var artifactUri = run["run"]!["info"]!["artifact_uri"]!.GetValue<string>();
        await (await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/runs/log-batch", new
        {
            run_id = runId,
            @params = new[] { new { key = "lr", value = lr }, new { key = "epochs", value = "20" } },
            metrics = new[] { new { key = "val_accuracy", value = accuracy, timestamp = 1700000000000, step = 20 } },
        })).ShouldBeOkayAsync();
        var version = await JsonAsync(await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/model-versions/create",
            new { name, source = $"{artifactUri}/model", run_id = runId }));
        return version["model_version"]!["version"]!.GetValue<string>();
    }

    /// <summary>Production protected, one approval from Approvers, a gate val_accuracy ≥ 0.9: PUT over /api/v1 by the seeder (an Admin).</summary>
    private static async Task SetPolicyAsync(DashboardServer server, string token, string name) =>
        await (await SendAsync(server, token, HttpMethod.Put, $"/api/v1/registered-models/{Uri.EscapeDataString(name)}/promotion-policy", new
        {
            protected_stages = new[] { "Production" },
            required_approvals = 1,
            approver_role = true,
            direct_change = DirectChangeMode.Refuse,
            gates = new[] { new { kind = GateKind.Metric, name = "val_accuracy ≥ 0.9", expression = "metrics.val_accuracy >= 0.9" } },
        })).ShouldBeOkayAsync();

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    private static async Task<HttpResponseMessage> SendAsync(DashboardServer server, string? token, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await server.Client.SendAsync(request, Ct);
    }
}

internal static class PromotionJourneyExtensions
{
    public static ILocator TestIdIn(this ILocator scope, string id) => scope.Locator($"[data-testid=\"{id}\"]");

    public static async Task ShouldBeOkayAsync(this HttpResponseMessage response) =>
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
}
