using System.Globalization;
using Bunit;
using Bunit.TestDoubles;
using Dashboard.Artifacts;
using Dashboard.Auth;
using Dashboard.Components.Pages.Models;
using Dashboard.Core.Tests.ModelCards;
using Dashboard.ModelCards;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>
/// The registry pages over a real SQLite database and a local artifact store: names as text and URL-encoded links,
/// searches, and every change through RegistryService with its refusals shown beside the control that caused them.
/// </summary>
public sealed class RegistryPagesTests : ComponentContext
{
    private const string Script = "<script>window.pwned = 1</script>";
    // Model names may hold no '/' (ADR 0009): markup that needs none.
    private const string Markup = "<img src=x onerror=alert(1)><b>bold";
    private readonly string _artifacts = Path.Join(Path.GetTempPath(), $"dashboard-bunit-artifacts-{Guid.NewGuid():N}");

    private BunitAuthorizationContext Auth { get; set; } = null!;

    private RegistryService Registry => Services.GetRequiredService<RegistryService>();

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private async Task UseRegistryAsync()
    {
        await UseDatabaseAsync();
        Services.AddSingleton<IArtifactStore>(new LocalArtifactStore(_artifacts));
        Services.AddSingleton<ModelSourceResolver>();
        Services.AddSingleton<LoggedModelService>();
        Services.AddSingleton<RegistrySearchService>();
        Services.AddSingleton<RegistryService>();
        Services.AddSingleton<Dashboard.Governance.PromotionService>();
        Services.AddSingleton<ModelCardService>();
        Services.AddScoped<CircuitActor>();
        Auth = AddAuthorization();
        Render<MudBlazor.MudPopoverProvider>();
    }

    /// <summary>A model with <paramref name="versions"/> versions, each from a run whose <c>model</c> folder holds the recorded Paddle model.</summary>
    private async Task<List<string>> ModelWithVersionsAsync(string name, int versions, params KeyValueInput[] tags)
    {
        await Registry.CreateRegisteredModelAsync(name, tags, null, Actor.Local, Ct);
        var runs = Services.GetRequiredService<RunService>();
        var store = Services.GetRequiredService<IArtifactStore>();
        var runIds = new List<string>();
        for (var i = 0; i < versions; i++)
        {
            var run = await runs.CreateRunAsync("0", null, $"train-{i}", null, null, Ct);
            var root = ArtifactLocations.StorePath(run.ArtifactUri)!.Value;
            foreach (var (file, bytes) in ModelFixtures.Files(ModelFixtures.Paddle217))
            {
                using var content = new MemoryStream(bytes);
                await store.WriteAsync(root.Append(ArtifactPath.Parse($"model/{file}", "p")), content, Ct);
            }
            await Registry.CreateModelVersionAsync(name, $"runs:/{run.Id}/model", run.Id, [new("dataset", "mnist")], null, null, null, Actor.Local, Ct);
            runIds.Add(run.Id);
        }
        return runIds;
    }

    [Fact]
    public async Task The_models_list_shows_names_as_text_links_them_url_encoded_with_stages_and_aliases()
    {
        await UseRegistryAsync();
        const string spaced = "ocr recognizer ü 名前 %2F?#";
        await ModelWithVersionsAsync(spaced, 2, new KeyValueInput("task", "ocr"));
        await Registry.TransitionStageAsync(spaced, "1", ModelStage.Production, false, Actor.Local, Ct);
        await Registry.SetAliasAsync(spaced, "champion", "1", Actor.Local, Ct);
        await Registry.CreateRegisteredModelAsync(Markup, [new("note", "<b>bold</b>")], Script, Actor.Local, Ct);

        var page = Render<ModelsPage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=model-link]").Count.ShouldBe(2), TimeSpan.FromSeconds(10));
        var links = page.FindAll("[data-testid=model-link]").ToDictionary(a => a.TextContent, a => a.GetAttribute("href"));
        links[spaced].ShouldBe("/models/ocr%20recognizer%20%C3%BC%20%E5%90%8D%E5%89%8D%20%252F%3F%23");
        links[Markup].ShouldBe("/models/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%3Cb%3Ebold");
        page.FindAll("script").ShouldBeEmpty();
        page.FindAll("img").ShouldBeEmpty();
        page.FindAll("b").ShouldBeEmpty();
        page.FindAll("[data-testid=model-description]").Select(d => d.TextContent).ShouldContain(Script);
        page.FindAll("[data-testid=stage-chip]").Select(c => c.TextContent.Trim()).ShouldBe(["Production: v1", "None: v2"], ignoreOrder: true);
        page.Find("[data-testid=model-alias]").TextContent.Trim().ShouldBe("@champion → v1");
    }

    [Fact]
    public async Task The_models_list_searches_by_name_and_tag_and_shows_a_bad_tag_search_beside_the_box()
    {
        await UseRegistryAsync();
        await Registry.CreateRegisteredModelAsync("mnist-cnn", [new("task", "mnist")], null, Actor.Local, Ct);
        await Registry.CreateRegisteredModelAsync("ocr-crnn", [new("task", "ocr")], null, Actor.Local, Ct);
        await Registry.CreateRegisteredModelAsync("ocr-dbnet", [new("task", "ocr")], null, Actor.Local, Ct);

        Go("/models?tag=task%3Docr");
        var byTag = Render<ModelsPage>();
        byTag.WaitForAssertion(() => byTag.FindAll("[data-testid=model-link]").Select(a => a.TextContent).ShouldBe(["ocr-crnn", "ocr-dbnet"]));

        Go("/models?name=CNN");
        var byName = Render<ModelsPage>();
        byName.WaitForAssertion(() => byName.FindAll("[data-testid=model-link]").Select(a => a.TextContent).ShouldBe(["mnist-cnn"]));

        Go("/models?tag=a%60b");
        var bad = Render<ModelsPage>();
        bad.WaitForAssertion(() => bad.Markup.ShouldContain("Not a tag search"));
        bad.FindAll("[data-testid=model-link]").ShouldBeEmpty();
        bad.Find("[data-testid=no-models]").TextContent.ShouldContain("Fix the tag search");
    }

    [Fact]
    public async Task The_versions_table_shows_the_metrics_most_of_the_versions_runs_logged_side_by_side()
    {
        await UseRegistryAsync();
        const string name = "metric columns";
        var runIds = await ModelWithVersionsAsync(name, 3);
        var runs = Services.GetRequiredService<RunService>();
        await runs.LogBatchAsync(runIds[0], [new MetricInput("val_accuracy", 0.91, 1, 0), new MetricInput("loss", 0.3, 1, 0)], null, null, Ct);
        await runs.LogBatchAsync(runIds[1], [new MetricInput("val_accuracy", 0.95, 1, 0), new MetricInput("loss", 0.2, 1, 0),
            new MetricInput("zeta", 1, 1, 0)], null, null, Ct);
        // The last run logs a NaN accuracy (left out) and a metric no other run has.
        await runs.LogBatchAsync(runIds[2], [new MetricInput("val_accuracy", double.NaN, 1, 0), new MetricInput("alpha", 7, 1, 0)], null, null, Ct);

        Auth.SetAuthorized("alice");
        Auth.SetClaims(new System.Security.Claims.Claim(Dashboard.Security.DashboardClaims.Role, nameof(Dashboard.Security.DashboardRole.Admin)));
        Go($"/models/{Uri.EscapeDataString(name)}");
        var page = Render<ModelPage>(p => p.Add(x => x.Name, name));
        page.WaitForAssertion(() => page.FindAll("[data-testid=version-row]").Count.ShouldBe(3));

        // The two keys most runs logged, then the rest by name, three at most.
        page.FindAll("[data-testid=version-metric-header]").Select(h => h.TextContent).ShouldBe(["loss", "val_accuracy", "alpha"]);
        string Cell(int version, string key) => page.Find($"[data-testid=version-row][data-version='{version}'] [data-metric='{key}']").TextContent;
        (Cell(1, "val_accuracy"), Cell(2, "val_accuracy"), Cell(3, "val_accuracy")).ShouldBe(("0.91", "0.95", ""));
        (Cell(1, "alpha"), Cell(3, "alpha")).ShouldBe(("", "7"));
    }

    [Fact]
    public async Task A_stage_transition_archives_the_others_and_a_refused_one_shows_its_message_beside_the_buttons()
    {
        await UseRegistryAsync();
        const string name = "mnist simplecnn";
        await ModelWithVersionsAsync(name, 2);
        await Registry.TransitionStageAsync(name, "1", ModelStage.Production, false, Actor.Local, Ct);

        // Who acts is the circuit's signed-in user, recorded in the history.
        Auth.SetAuthorized("alice");
        // A signed-in person without a role is a Viewer, and a Contributor edits only what she was granted (issue 6): alice is an Admin.
        Auth.SetClaims(new System.Security.Claims.Claim(Dashboard.Security.DashboardClaims.Role, nameof(Dashboard.Security.DashboardRole.Admin)));
        Go($"/models/{Uri.EscapeDataString(name)}?version=2");
        var page = Render<ModelPage>(p => p.Add(x => x.Name, name));
        page.WaitForAssertion(() => page.Find("[data-testid=version-panel]").GetAttribute("data-version").ShouldBe("2"));

        // Archiving with a target that is not Staging or Production: RegistryService refuses, with MLflow's words.
        page.Find("input[data-testid=archive-existing]").Change(true);
        page.Find("[data-testid='stage-to:Archived']").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=stage-error]").TextContent.ShouldContain("is not an Active stage"));

        page.Find("[data-testid='stage-to:Production']").Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=stage-error]").ShouldBeEmpty());
        page.WaitForAssertion(() => Stages(page).ShouldBe(["2:Production", "1:Archived"]));
        (await Registry.GetModelVersionAsync(name, "1", Ct)).Version.CurrentStage.ShouldBe(ModelStage.Archived);
        page.FindAll("[data-testid=history-what]").Select(e => e.TextContent).Take(2)
            .ShouldBe(["Version 2: None → Production", "Version 1: Production → Archived"], ignoreOrder: true);
        page.FindAll("[data-testid=history-who]").Select(w => w.TextContent).ShouldBe(["alice", "alice", "local"]);
    }

    [Fact]
    public async Task Aliases_are_set_moved_and_deleted_and_a_refused_alias_shows_its_message_beside_the_form()
    {
        await UseRegistryAsync();
        const string name = "ernie sentiment";
        await ModelWithVersionsAsync(name, 2);
        var page = Render<ModelPage>(p => p.Add(x => x.Name, name));
        page.WaitForAssertion(() => page.FindAll("[data-testid=version-row]").Count.ShouldBe(2));

        await SetAliasAsync(page, "latest", "1");
        page.WaitForAssertion(() => page.Find("[data-testid=alias-error]").TextContent.ShouldBe("'latest' alias name (case insensitive) is reserved."));
        await SetAliasAsync(page, "champion", "7");
        page.WaitForAssertion(() => page.Find("[data-testid=alias-error]").TextContent.ShouldContain("Model Version (name=ernie sentiment, version=7) not found"));

        await SetAliasAsync(page, "champion", "1");
        page.WaitForAssertion(() => page.Find("[data-testid=alias]").GetAttribute("data-alias").ShouldBe("champion"));
        page.FindAll("[data-testid=alias-error]").ShouldBeEmpty();
        await SetAliasAsync(page, "champion", "2");
        page.WaitForAssertion(() => page.Find("[data-testid=history-what]").TextContent.ShouldBe("@champion moved: version 1 → 2"));
        page.Find("[data-version='2'] [data-testid=version-alias]").TextContent.ShouldBe("@champion");

        page.Find("[data-testid='delete-alias:champion']").Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=alias]").ShouldBeEmpty());
        page.Find("[data-testid=history-what]").TextContent.ShouldBe("@champion removed (was version 2)");
    }

    [Fact]
    public async Task Tags_are_edited_with_errors_inline_and_the_model_card_of_the_selected_version_is_shown()
    {
        await UseRegistryAsync();
        const string name = "tagged";
        var runIds = await ModelWithVersionsAsync(name, 1);
        var page = Render<ModelPage>(p => p.Add(x => x.Name, name));
        page.WaitForAssertion(() => page.Find("[data-testid=model-card]"));

        // The recorded MLflow 2.17 Paddle model, read from the run's folder in the store.
        page.Find("[data-testid=model-paddle]").TextContent.Trim().ShouldStartWith("2.6.1");
        page.FindAll("[data-testid=signature-inputs] tbody tr, [data-testid=signature-outputs] tbody tr").Count.ShouldBe(2);
        page.FindAll("[data-testid=model-requirement]").Select(r => r.TextContent)
            .ShouldContain(row => row.Contains("paddlepaddle") && row.Contains("==2.6.1"));
        page.Find("[data-testid=version-run]").GetAttribute("href").ShouldBe($"/runs/{runIds[0]}");

        page.Find("input[data-testid=model-tags-key]").Input("team");
        page.Find("input[data-testid=model-tags-value]").Input(Script);
        page.Find("[data-testid=model-tags-set]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=model-tags] [data-testid=tag]").TextContent.Trim().ShouldBe($"team={Script}"));
        page.FindAll("script").ShouldBeEmpty();

        page.Find("input[data-testid=version-tags-key]").Input("");
        page.Find("[data-testid=version-tags-set]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=version-tags-error]").TextContent.ShouldContain("key"));
        (await Registry.GetModelVersionAsync(name, "1", Ct)).Version.Tags.Select(t => t.Key).ShouldBe(["dataset"]);
    }

    [Fact]
    public async Task A_contributors_stage_or_alias_change_of_a_protected_target_shows_the_pointer_to_the_request_flow_and_changes_nothing()
    {
        await UseRegistryAsync();
        var promotions = Services.GetRequiredService<Dashboard.Governance.PromotionService>();
        await promotions.SetPolicyAsync(null, new Dashboard.Governance.PolicyInput([ModelStage.Production], ["champion"], null, null, null, null,
            null, null), Dashboard.Security.Caller.Local, Ct);
        var page = await ModelPageOfContributorAsync("guarded", Dashboard.Security.AccessLevel.Manage);

        page.Find("[data-testid='stage-to:Production']").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=stage-error]").TextContent.ShouldBe(
            "Stage 'Production' of model 'guarded' is protected: open a promotion request (POST /api/v1/promotion-requests or the version's page in Dashboard)."));
        (await Registry.GetModelVersionAsync("guarded", "1", Ct)).Version.CurrentStage.ShouldBe(ModelStage.None);
        page.Find("[data-testid='delete-alias:champion']").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=alias-error]").TextContent.ShouldStartWith("Alias 'champion' of model 'guarded' is protected"));
        (await Registry.GetModelVersionByAliasAsync("guarded", "champion", Ct)).Version.Version.ShouldBe(1);
        // An unprotected stage stays the contributor's to change.
        page.Find("[data-testid='stage-to:Staging']").Click();
        page.WaitForAssertion(() => Stages(page).ShouldBe(["1:Staging"]));
    }

    [Fact]
    public async Task An_unknown_model_says_so()
    {
        await UseRegistryAsync();

        var page = Render<ModelPage>(p => p.Add(x => x.Name, "nobody ü"));

        page.WaitForAssertion(() => page.Find("[data-testid=model-not-found]").TextContent.ShouldBe("Registered Model with name=nobody ü not found"));
    }

    /// <summary>The model page of a Contributor with <paramref name="grant"/> on the model (none: DefaultPermission, READ).</summary>
    private async Task<IRenderedComponent<ModelPage>> ModelPageOfContributorAsync(string name, Dashboard.Security.AccessLevel? grant)
    {
        await ModelWithVersionsAsync(name, 1, new KeyValueInput("task", "ocr"));
        await Registry.SetAliasAsync(name, "champion", "1", Actor.Local, Ct);
        if (grant is { } level)
        {
            var permissions = Services.GetRequiredService<Dashboard.Security.PermissionService>();
            await permissions.SetRegisteredModelGrantAsync(await permissions.RegisteredModelIdAsync(name, Ct), Dashboard.Security.PrincipalKind.User, "cora", level, Ct);
        }
        Auth.SetAuthorized("cora");
        Auth.SetClaims(new System.Security.Claims.Claim(Dashboard.Security.DashboardClaims.Role, nameof(Dashboard.Security.DashboardRole.Contributor)));
        Go($"/models/{Uri.EscapeDataString(name)}?version=1");
        var page = Render<ModelPage>(p => p.Add(x => x.Name, name));
        page.WaitForAssertion(() => page.Find("[data-testid=version-panel]").GetAttribute("data-version").ShouldBe("1"), TimeSpan.FromSeconds(10));
        return page;
    }

    private static string[] Shown(IRenderedComponent<ModelPage> page, params string[] testIds) =>
        [.. testIds.Where(id => page.FindAll($"[data-testid='{id}']").Count > 0)];

    private static readonly string[] EditControls =
        ["model-tags-key", "model-tags-set", "version-tags-key", "version-tags-set", "describe-model", "describe-version", "alias-set", "alias-name", "stage-to:Production", "archive-existing"];

    [Fact]
    public async Task A_contributor_reading_a_model_sees_its_tags_but_no_tag_editors_or_other_edit_controls()
    {
        await UseRegistryAsync();
        var page = await ModelPageOfContributorAsync("read only", grant: null);

        Shown(page, EditControls).ShouldBeEmpty();
        Shown(page, "delete-alias:champion").ShouldBeEmpty();
        page.Find("[data-testid=model-tags] [data-testid=tag]").TextContent.Trim().ShouldBe("task=ocr");
        page.Find("[data-testid=version-tags] [data-testid=tag]").TextContent.Trim().ShouldBe("dataset=mnist");
        page.FindAll("[data-testid=tag] .mud-chip-close-button").ShouldBeEmpty();
        page.Find("[data-testid=rename-model]").HasAttribute("disabled").ShouldBeTrue();
        page.Find("[data-testid=delete-model]").HasAttribute("disabled").ShouldBeTrue();
    }

    [Fact]
    public async Task A_contributor_with_edit_on_a_model_sees_its_editors_and_with_manage_its_removals()
    {
        await UseRegistryAsync();
        var edit = await ModelPageOfContributorAsync("edited", Dashboard.Security.AccessLevel.Edit);

        Shown(edit, EditControls).ShouldBe(EditControls);
        // Removing a model's tag needs EDIT, a version's tag or an alias MANAGE (as the API).
        edit.FindAll("[data-testid=model-tags] [data-testid=tag] .mud-chip-close-button").Count.ShouldBe(1);
        edit.FindAll("[data-testid=version-tags] [data-testid=tag] .mud-chip-close-button").ShouldBeEmpty();
        Shown(edit, "delete-alias:champion").ShouldBeEmpty();
        edit.Find("[data-testid=rename-model]").HasAttribute("disabled").ShouldBeFalse();
        edit.Find("[data-testid=delete-model]").HasAttribute("disabled").ShouldBeTrue();

        var manage = await ModelPageOfContributorAsync("managed", Dashboard.Security.AccessLevel.Manage);
        Shown(manage, EditControls).ShouldBe(EditControls);
        manage.FindAll("[data-testid=version-tags] [data-testid=tag] .mud-chip-close-button").Count.ShouldBe(1);
        Shown(manage, "delete-alias:champion").ShouldBe(["delete-alias:champion"]);
        manage.Find("[data-testid=delete-model]").HasAttribute("disabled").ShouldBeFalse();
    }

    [Fact]
    public async Task A_contributor_sees_a_listed_models_edit_icons_only_with_edit_and_its_delete_only_with_manage()
    {
        await UseRegistryAsync();
        var permissions = Services.GetRequiredService<Dashboard.Security.PermissionService>();
        foreach (var (name, level) in new (string, Dashboard.Security.AccessLevel?)[]
                 { ("plain", null), ("edited", Dashboard.Security.AccessLevel.Edit), ("managed", Dashboard.Security.AccessLevel.Manage) })
        {
            await Registry.CreateRegisteredModelAsync(name, [], null, Actor.Local, Ct);
            if (level is { } l)
            {
                await permissions.SetRegisteredModelGrantAsync(await permissions.RegisteredModelIdAsync(name, Ct), Dashboard.Security.PrincipalKind.User, "cora", l, Ct);
            }
        }
        Auth.SetAuthorized("cora");
        Auth.SetClaims(new System.Security.Claims.Claim(Dashboard.Security.DashboardClaims.Role, nameof(Dashboard.Security.DashboardRole.Contributor)));

        var page = Render<ModelsPage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=model-link]").Count.ShouldBe(3), TimeSpan.FromSeconds(10));
        page.FindAll("[data-testid=rename-model]").Select(b => b.GetAttribute("aria-label")).ShouldBe(["Rename edited", "Rename managed"]);
        page.FindAll("[data-testid=describe-model]").Count.ShouldBe(2);
        page.FindAll("[data-testid=delete-model]").Select(b => b.GetAttribute("aria-label")).ShouldBe(["Delete managed"]);
    }

    private void Go(string uri) => Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo(uri);

    private static List<string> Stages(IRenderedComponent<ModelPage> page) =>
        [.. page.FindAll("[data-testid=version-row]").Select(r =>
            r.GetAttribute("data-version") + ":" + r.QuerySelector("[data-testid=stage-chip]")!.GetAttribute("data-stage"))];

    private static async Task SetAliasAsync(IRenderedComponent<ModelPage> page, string alias, string version)
    {
        await page.Find("input[data-testid=alias-name]").InputAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = alias });
        await page.Find("input[data-testid=alias-version]").InputAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = version });
        await page.Find("[data-testid=alias-set]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(_artifacts, recursive: true);
        }
        catch (IOException)
        {
            // Never made (no test wrote a file), or still open: it is in the temporary folder.
        }
    }
}
