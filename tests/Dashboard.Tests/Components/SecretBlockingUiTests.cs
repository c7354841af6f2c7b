using Bunit;
using Dashboard.Components.Pages.Runs;
using Dashboard.Core.Tests.Secrets;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>
/// The dashboard's own edits go through the same services as the API, so secret blocking holds there too: the
/// refusal shows inline, names the key and rule, never the value, and nothing is stored.
/// </summary>
public sealed class SecretBlockingUiTests : ComponentContext
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_tag_or_description_that_looks_like_a_secret_is_refused_on_the_run_page_and_not_stored()
    {
        await UseDatabaseAsync();
        Services.AddSingleton<RunChanges>();
        var runs = Services.GetRequiredService<RunService>();
        var run = await runs.CreateRunAsync("0", "alice", "run-a", 1_700_000_000_000, null, Ct);
        Render<MudBlazor.MudPopoverProvider>();
        var loaded = await runs.GetRunAsync(run.Id, Ct);

        var tags = Render<RunTags>(p => p.Add(x => x.Run, loaded));
        tags.Find("input[data-testid=tag-new-key]").Change("db_password");
        tags.Find("input[data-testid=tag-new-value]").Change("hunter2-value");
        tags.Find("[data-testid=tag-add]").Click();
        tags.WaitForAssertion(() => tags.Find("[data-testid=tags]").TextContent.ShouldContain("Tag 'db_password' (key:password) looks like a secret"));

        var overview = Render<RunOverview>(p => p.Add(x => x.Run, loaded).Add(x => x.Now, DateTimeOffset.UtcNow));
        overview.Find("[data-testid=description-edit]").Click();
        overview.Find("textarea").Change("keys: " + FakeSecrets.AwsAccessKeyId);
        overview.Find("[data-testid=description-save]").Click();
        overview.WaitForAssertion(() => overview.Nodes.Select(n => n.TextContent).ShouldContain(t => t.Contains("Tag 'mlflow.note.content' (value:aws_access_key_id) looks like a secret")));

        var stored = await runs.GetRunAsync(run.Id, Ct);
        stored.Tags.Select(t => t.Key).ShouldBe([RunService.RunNameTag]);
        await using var db = await Database.Factory.CreateDbContextAsync(Ct);
        (await db.SecretBlocks.OrderBy(b => b.Id).Select(b => b.Key).ToListAsync(Ct)).ShouldBe(["db_password", "mlflow.note.content"]);
    }
}
