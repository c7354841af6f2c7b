using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dashboard.Data;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// Issue 6's "Done when", end to end: a dashboard in Oidc mode where nobody may read what they were not given
/// (DefaultPermission NO_PERMISSIONS). A service account's token creates two experiments over the MLflow API and
/// grants the group ml-team READ on one through MLflow's permission endpoint; alice (ml-team) signs in through the
/// provider and sees that one only, victor (a Viewer, given READ on the other by name) sees the other one only; an MLflow client with alice's token reads and logs
/// nothing it may not, one without a token gets 401, and a param that looks like a secret is refused with nothing stored.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed class AccessJourneyTests(BrowserFixture browser)
{
    [Fact]
    public async Task People_see_only_the_experiments_their_groups_may_read_and_programs_need_a_token()
    {
        await using var provider = await TestOidcProvider.StartAsync();
        await using var server = await provider.StartDashboardAsync(new Dictionary<string, string>
        {
            ["Dashboard:Auth:DefaultPermission"] = "NO_PERMISSIONS",
        });
        var users = server.Services.GetRequiredService<UserDirectory>();
        var tokens = server.Services.GetRequiredService<TokenService>();
        var seeder = await users.EnsureServiceAccountAsync("seeder", DashboardRole.Admin, TestContext.Current.CancellationToken);
        var seederToken = (await tokens.CreateAsync(seeder.Id, "journey", TokenScope.Admin, null, "test", TestContext.Current.CancellationToken)).Secret;

        var suffix = Guid.NewGuid().ToString("N")[..8];
        var shared = await CreateExperimentAsync(server, seederToken, $"vision-shared-{suffix}");
        var hidden = await CreateExperimentAsync(server, seederToken, $"secret-project-{suffix}");
        (await SendAsync(server, seederToken, HttpMethod.Post, "/api/2.0/mlflow/experiments/permissions/create",
            new { experiment_id = shared, group_name = "ml-team", permission = "EDIT" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await SendAsync(server, seederToken, HttpMethod.Post, "/api/2.0/mlflow/experiments/permissions/create",
            new { experiment_id = hidden, username = "victor", permission = "READ" })).StatusCode.ShouldBe(HttpStatusCode.OK);

        // alice (ml-team, a Contributor) sees the shared experiment and not the other one.
        var page = await browser.NewPageAsync();
        try
        {
            await provider.OpenSignedInAsync(page, server, "/experiments", "alice");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("alice (Contributor)");
            await Expect(page.TestId("experiment-link").Filter(new() { HasText = $"vision-shared-{suffix}" })).ToHaveCountAsync(1);
            await Expect(page.TestId("experiment-link").Filter(new() { HasText = $"secret-project-{suffix}" })).ToHaveCountAsync(0);
            // Its page by URL is refused, not shown.
            await page.GotoAsync(new Uri(server.Address, $"/experiments/{hidden}").ToString());
            await page.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
            await Expect(page.GetByText($"secret-project-{suffix}")).ToHaveCountAsync(0);
        }
        catch
        {
            await page.SnapAsync(nameof(People_see_only_the_experiments_their_groups_may_read_and_programs_need_a_token) + "-alice");
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        // victor (readers, a Viewer) was given READ on the other one by name, and sees that one only.
        page = await browser.NewPageAsync();
        try
        {
            await provider.OpenSignedInAsync(page, server, "/experiments", "victor");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("victor (Viewer)");
            await Expect(page.TestId("experiment-link").Filter(new() { HasText = $"secret-project-{suffix}" })).ToHaveCountAsync(1);
            await Expect(page.TestId("experiment-link").Filter(new() { HasText = $"vision-shared-{suffix}" })).ToHaveCountAsync(0);
            // A Viewer makes no experiments.
            await Expect(page.TestId("create-experiment")).ToHaveCountAsync(0);
        }
        catch
        {
            await page.SnapAsync(nameof(People_see_only_the_experiments_their_groups_may_read_and_programs_need_a_token) + "-victor");
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        // The MLflow client as alice (the person the sign-in recorded), with MLFLOW_TRACKING_TOKEN.
        var alice = await users.FindByNameAsync("alice", TestContext.Current.CancellationToken);
        alice.ShouldNotBeNull();
        var aliceToken = (await tokens.CreateAsync(alice.Id, "training", TokenScope.Write, null, "alice", TestContext.Current.CancellationToken)).Secret;
        var search = await SendAsync(server, aliceToken, HttpMethod.Post, "/api/2.0/mlflow/experiments/search", new { max_results = 100 });
        var names = (await search.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken))!["experiments"]!.AsArray()
            .Select(e => e!["name"]!.GetValue<string>()).Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).ToList();
        names.ShouldBe([$"vision-shared-{suffix}"]);
        var run = await SendAsync(server, aliceToken, HttpMethod.Post, "/api/2.0/mlflow/runs/create", new { experiment_id = shared, run_name = "first" });
        run.StatusCode.ShouldBe(HttpStatusCode.OK, await run.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var runId = (await run.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken))!["run"]!["info"]!["run_id"]!.GetValue<string>();
        (await SendAsync(server, aliceToken, HttpMethod.Post, "/api/2.0/mlflow/runs/log-batch", new
        {
            run_id = runId,
            @params = new[] { new { key = "lr", value = "0.01" } },
            metrics = new[] { new { key = "loss", value = 0.5, timestamp = 1700000000000, step = 0 } },
        })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await SendAsync(server, aliceToken, HttpMethod.Post, "/api/2.0/mlflow/runs/create", new { experiment_id = hidden }))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        // Without a token: 401 with a challenge.
        var anonymous = await SendAsync(server, null, HttpMethod.Post, "/api/2.0/mlflow/runs/log-parameter", new { run_id = runId, key = "x", value = "1" });
        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        anonymous.Headers.WwwAuthenticate.ShouldNotBeEmpty();
        // A param that looks like a secret is refused, and nothing of that batch is stored.
        var refused = await SendAsync(server, aliceToken, HttpMethod.Post, "/api/2.0/mlflow/runs/log-batch", new
        {
            run_id = runId,
            @params = new[] { new { key = "batch_size", value = "64" }, new { key = "db_password", value = "hunter2-" + suffix } },
        });
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var refusedText = await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        refusedText.ShouldContain("db_password");
        refusedText.ShouldNotContain("hunter2");
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        (await db.Params.Where(p => p.RunId == runId).Select(p => p.Key).ToListAsync(TestContext.Current.CancellationToken)).ShouldBe(["lr"]);
    }

    private static async Task<string> CreateExperimentAsync(DashboardServer server, string token, string name)
    {
        using var response = await SendAsync(server, token, HttpMethod.Post, "/api/2.0/mlflow/experiments/create", new { name });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["experiment_id"]!.GetValue<string>();
    }

    private static async Task<HttpResponseMessage> SendAsync(DashboardServer server, string? token, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await server.Client.SendAsync(request);
    }
}
