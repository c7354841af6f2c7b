using Bunit;
using Bunit.TestDoubles;
using Dashboard.Artifacts;
using Dashboard.Auth;
using Dashboard.Components.Pages.Models;
using Dashboard.Components.Pages.Promotions;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.ModelCards;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>
/// The promotion pages over a real SQLite database and the real <see cref="PromotionService"/>: names and comments with
/// markup shown as text, the service's refusals shown beside the control (nothing stored), the policy editor, and the
/// lists of requests.
/// </summary>
public sealed class PromotionPagesTests : ComponentContext
{
    private const string Markup = "<img src=x onerror=alert(1)><b>bold";
    private readonly string _artifacts = Path.Join(Path.GetTempPath(), $"dashboard-bunit-artifacts-{Guid.NewGuid():N}");

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private BunitAuthorizationContext Auth { get; set; } = null!;

    private RegistryService Registry => Services.GetRequiredService<RegistryService>();

    private PromotionService Promotions => Services.GetRequiredService<PromotionService>();

    private async Task UsePromotionsAsync()
    {
        await UseDatabaseAsync();
        Services.AddSingleton<IArtifactStore>(new LocalArtifactStore(_artifacts));
        Services.AddSingleton<ModelSourceResolver>();
        Services.AddSingleton<LoggedModelService>();
        Services.AddSingleton<RegistrySearchService>();
        Services.AddSingleton<RegistryService>();
        Services.AddSingleton<ModelCardService>();
        Services.AddSingleton<PromotionService>();
        Services.AddScoped<CircuitActor>();
        Auth = AddAuthorization();
        Render<MudBlazor.MudPopoverProvider>();
    }

    /// <summary>A model whose versions come from runs with val_accuracy <paramref name="accuracies"/> and a param lr.</summary>
    private async Task ModelAsync(string name, params double[] accuracies)
    {
        await Registry.CreateRegisteredModelAsync(name, [], null, Actor.Local, Ct);
        var runs = Services.GetRequiredService<RunService>();
        foreach (var accuracy in accuracies)
        {
            var run = await runs.CreateRunAsync("0", null, $"train-{accuracy}", null, null, Ct);
            await runs.LogBatchAsync(run.Id, [new MetricInput("val_accuracy", accuracy, 1_700_000_000_000, 3)],
                [new KeyValueInput("lr", accuracy.ToString(System.Globalization.CultureInfo.InvariantCulture))], null, Ct);
            await Registry.CreateModelVersionAsync(name, $"runs:/{run.Id}/model", run.Id, [], null, null, null, Actor.Local, Ct);
        }
    }

    private static PolicyInput ProtectProduction(string expression = "metrics.val_accuracy >= 0.9") => new(
        [ModelStage.Production], [], 1, true, [], null, DirectChangeMode.Refuse,
        [new GateSpec { Kind = GateKind.Metric, Expression = expression }]);

    private void SignIn(string name, DashboardRole role)
    {
        Auth.SetAuthorized(name);
        Auth.SetClaims(new System.Security.Claims.Claim(DashboardClaims.Role, role.ToString()));
    }

    private async Task<int> RequestCountAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(Ct);
        return await db.PromotionRequests.CountAsync(Ct);
    }

    [Fact]
    public async Task The_version_page_shows_a_name_with_markup_as_text_with_the_runs_metrics_and_the_live_gates_of_a_protected_target()
    {
        await UsePromotionsAsync();
        var name = "churn " + Markup;
        await ModelAsync(name, 0.8, 0.95);
        await Promotions.SetPolicyAsync(name, ProtectProduction(), Caller.Local, Ct);

        var page = Render<ModelVersionPage>(p => p.Add(x => x.Name, name).Add(x => x.Version, "2"));

        page.WaitForAssertion(() => page.Find("[data-testid=version-title]").TextContent.ShouldBe($"{name} · version 2"));
        page.FindAll("img").ShouldBeEmpty();
        page.FindAll("b").ShouldBeEmpty();
        page.Find("[data-testid=version-metric][data-key=val_accuracy]").TextContent.ShouldContain("0.95");
        page.Find("[data-testid=version-param][data-key=lr]").TextContent.ShouldContain("0.95");

        page.Find("[data-testid='target-stage:Production']").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=gate]").GetAttribute("data-passed").ShouldBe("true"));
        page.Find("[data-testid=request-protected]").GetAttribute("data-protected").ShouldBe("yes");
        page.Find("[data-testid='target-stage:Staging']").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=request-protected]").GetAttribute("data-protected").ShouldBe("no"));

        // Version 1 fails the gate: the chip says so with the values it looked at.
        var first = Render<ModelVersionPage>(p => p.Add(x => x.Name, name).Add(x => x.Version, "1"));
        first.WaitForAssertion(() => first.Find("[data-testid=version-title]"));
        first.Find("[data-testid='target-stage:Production']").Click();
        first.WaitForAssertion(() => first.Find("[data-testid=gate]").GetAttribute("data-passed").ShouldBe("false"));
        first.Find("[data-testid=gate-detail]").TextContent.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task A_refused_request_shows_the_services_message_beside_the_form_and_stores_nothing()
    {
        await UsePromotionsAsync();
        await ModelAsync("fraud", 0.95);
        await Registry.TransitionStageAsync("fraud", "1", ModelStage.Production, false, Actor.Local, Ct);

        var page = Render<ModelVersionPage>(p => p.Add(x => x.Name, "fraud").Add(x => x.Version, "1"));
        page.WaitForAssertion(() => page.Find("[data-testid='target-stage:Production']").Click());
        page.Find("[data-testid=request-submit]").Click();

        page.WaitForAssertion(() => page.Find("[data-testid=request-error]").TextContent.ShouldContain("already"));
        (await RequestCountAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task An_unknown_version_and_an_unknown_request_say_so()
    {
        await UsePromotionsAsync();
        await ModelAsync("small", 0.5);

        var version = Render<ModelVersionPage>(p => p.Add(x => x.Name, "small").Add(x => x.Version, "9"));
        var request = Render<PromotionRequestPage>(p => p.Add(x => x.Id, 424242L));

        version.WaitForAssertion(() => version.Find("[data-testid=version-not-found]").TextContent.ShouldContain("9"));
        request.WaitForAssertion(() => request.Find("[data-testid=request-not-found]").TextContent.ShouldContain("424242"));
    }

    [Fact]
    public async Task The_request_page_shows_markup_as_text_compares_metrics_and_params_and_shows_a_refused_approval_inline()
    {
        await UsePromotionsAsync();
        var name = "ranker " + Markup;
        await ModelAsync(name, 0.92, 0.85);
        await Registry.TransitionStageAsync(name, "1", ModelStage.Production, false, Actor.Local, Ct);
        await Promotions.SetPolicyAsync(name, ProtectProduction(), Caller.Local, Ct);
        var requester = new Caller("cora", DashboardRole.Admin);
        var created = await Promotions.CreateRequestAsync(new PromotionRequestInput(name, "2", PromotionTargetKind.Stage, ModelStage.Production, true,
            "why not " + Markup), requester, Ct);
        SignIn("dan", DashboardRole.Approver);

        var page = Render<PromotionRequestPage>(p => p.Add(x => x.Id, created.Request.Id));

        page.WaitForAssertion(() => page.Find("[data-testid=request-state]").GetAttribute("data-state").ShouldBe(PromotionState.Pending));
        page.Find("[data-testid=request-model]").TextContent.ShouldBe(name);
        page.Find("[data-testid=request-comment-text]").TextContent.ShouldBe("why not " + Markup);
        page.FindAll("img").ShouldBeEmpty();
        page.WaitForAssertion(() => page.Find("[data-testid=evidence-metric][data-key=val_accuracy]").GetAttribute("data-better").ShouldBe("worse"));
        page.Find("[data-testid=evidence-param][data-key=lr]").GetAttribute("data-changed").ShouldBe("yes");
        page.Find("[data-testid=gate]").GetAttribute("data-passed").ShouldBe("false");
        // An Approver (not an Admin) may not approve past a failing gate: the refusal is shown, the request stays Pending.
        page.FindAll("[data-testid=override-reason]").ShouldBeEmpty();
        page.Find("[data-testid=approve]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=action-error]").TextContent.ShouldNotBeNullOrWhiteSpace());
        page.Find("[data-testid=request-state]").GetAttribute("data-state").ShouldBe(PromotionState.Pending);
        (await Promotions.GetRequestAsync(created.Request.Id, Caller.Local, Ct)).Request.State.ShouldBe(PromotionState.Pending);

        // A comment with markup joins the thread as text.
        page.Find("textarea[data-testid=comment-input]").Input("look again " + Markup);
        page.Find("[data-testid=comment-add]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=comment-body]").TextContent.ShouldBe("look again " + Markup));
        page.Find("[data-testid=comment-author]").TextContent.ShouldBe("dan");
        page.FindAll("img").ShouldBeEmpty();
    }

    [Fact]
    public async Task The_inbox_lists_what_the_caller_may_review_and_my_requests_filter_by_state_from_the_address()
    {
        await UsePromotionsAsync();
        await ModelAsync("inbox", 0.95, 0.96);
        await Promotions.SetPolicyAsync("inbox", ProtectProduction(), Caller.Local, Ct);
        var permissions = Services.GetRequiredService<PermissionService>();
        await permissions.SetRegisteredModelGrantAsync(await permissions.RegisteredModelIdAsync("inbox", Ct), PrincipalKind.User, "cora", AccessLevel.Edit, Ct);
        var cora = new Caller("cora", DashboardRole.Contributor);
        var pending = await Promotions.CreateRequestAsync(new PromotionRequestInput("inbox", "1", PromotionTargetKind.Stage, ModelStage.Production, true, "a"), cora, Ct);
        var cancelled = await Promotions.CreateRequestAsync(new PromotionRequestInput("inbox", "2", PromotionTargetKind.Stage, ModelStage.Staging, false, "b"), cora, Ct);
        await Promotions.CancelAsync(cancelled.Request.Id, null, cora, Ct);

        SignIn("dan", DashboardRole.Approver);
        var inbox = Render<ApprovalsPage>();
        inbox.WaitForAssertion(() => inbox.FindAll("[data-testid=request-row]").Select(r => r.GetAttribute("data-id"))
            .ShouldBe([pending.Request.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        inbox.Find("[data-testid=request-row-gates]").TextContent.Trim().ShouldBe("1/1");

        SignIn("cora", DashboardRole.Contributor);
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/promotions?state=Cancelled");
        var mine = Render<MyRequestsPage>();
        mine.WaitForAssertion(() => mine.FindAll("[data-testid=request-row]").Select(r => r.GetAttribute("data-id"))
            .ShouldBe([cancelled.Request.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        var empty = Render<ApprovalsPage>();
        empty.WaitForAssertion(() => empty.Find("[data-testid=requests-none]"));
    }

    [Fact]
    public async Task The_policy_panel_shows_the_inherited_default_and_a_manager_saves_a_policy_a_bad_gate_is_refused_inline()
    {
        await UsePromotionsAsync();
        await ModelAsync("governed", 0.9);

        var panel = Render<PromotionPolicyPanel>(p => p.Add(x => x.ModelName, "governed"));
        panel.WaitForAssertion(() => panel.Find("[data-testid=policy-panel]").GetAttribute("data-inherited").ShouldBe("yes"));
        panel.Find("[data-testid=policy-protected]").TextContent.ShouldContain("nothing");

        panel.Find("[data-testid=policy-edit]").Click();
        panel.Find("input[data-testid='policy-stage:Production']").Change(true);
        panel.Find("[data-testid=policy-gate-add]").Click();
        panel.Find("input[data-testid=policy-gate-expression]").Input("metrics.val_accuracy >>= 0.9");
        panel.Find("[data-testid=policy-save]").Click();
        panel.WaitForAssertion(() => panel.Find("[data-testid=policy-error]").TextContent.ShouldNotBeNullOrWhiteSpace());
        (await Promotions.GetPolicyAsync("governed", Caller.Local, Ct)).Inherited.ShouldBeTrue();

        panel.Find("input[data-testid=policy-gate-expression]").Input("metrics.val_accuracy >= 0.9");
        panel.Find("[data-testid=policy-save]").Click();
        panel.WaitForAssertion(() => panel.Find("[data-testid=policy-panel]").GetAttribute("data-inherited").ShouldBe("no"));
        panel.Find("[data-testid=policy-protected]").TextContent.ShouldContain("Production");
        panel.Find("[data-testid=policy-gate]").TextContent.ShouldContain("metrics.val_accuracy >= 0.9");
        var saved = await Promotions.GetPolicyAsync("governed", Caller.Local, Ct);
        saved.ProtectedStages.ShouldBe([ModelStage.Production]);
        saved.Gates.Single().Expression.ShouldBe("metrics.val_accuracy >= 0.9");
    }

    [Fact]
    public async Task A_contributor_reading_a_model_sees_its_policy_without_an_editor_and_no_request_form()
    {
        await UsePromotionsAsync();
        await ModelAsync("readonly", 0.9);
        SignIn("cora", DashboardRole.Contributor);

        var panel = Render<PromotionPolicyPanel>(p => p.Add(x => x.ModelName, "readonly"));
        var version = Render<ModelVersionPage>(p => p.Add(x => x.Name, "readonly").Add(x => x.Version, "1"));

        panel.WaitForAssertion(() => panel.Find("[data-testid=policy-protected]"));
        panel.FindAll("[data-testid=policy-edit]").ShouldBeEmpty();
        version.WaitForAssertion(() => version.Find("[data-testid=version-title]"));
        version.FindAll("[data-testid=request-panel]").ShouldBeEmpty();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(_artifacts))
        {
            Directory.Delete(_artifacts, recursive: true);
        }
    }
}
