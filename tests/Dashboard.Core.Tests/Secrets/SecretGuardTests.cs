using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Registry;
using Dashboard.Secrets;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Secrets;

public class SecretGuardTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static SecretPolicy Redacting(params string[] allow) => SecretPolicy.Create(true, SecretAction.Redact, allow);

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_naming_each_key_and_rule_and_records_them_without_the_value(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var guard = new SecretGuard(db.Factory, TimeProvider.System);

        var e = await Should.ThrowAsync<MlflowException>(() => guard.CheckAsync(
            [new(SecretTargets.Param, "lr", "0.1"), new(SecretTargets.Param, "db_password", "hunter2-hunter2"),
                new(SecretTargets.RunTag, "aws", FakeSecrets.AwsAccessKeyId)],
            new SecretScope(RunId: "0123456789abcdef0123456789abcdef"), "alice", ct));

        e.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        e.Message.ShouldStartWith("Param 'db_password' (key:password), Tag 'aws' (value:aws_access_key_id) look like secrets and were not stored.");
        e.Message.ShouldNotContain("hunter2");
        e.Message.ShouldNotContain(FakeSecrets.AwsAccessKeyId);
        await using var read = await db.Factory.CreateDbContextAsync(ct);
        var rows = await read.SecretBlocks.OrderBy(b => b.Id).ToListAsync(ct);
        rows.Select(r => (r.Target, r.Key, r.Rule, r.Action, r.Actor, r.RunId)).ShouldBe(
        [
            ("param", "db_password", "key:password", "refused", "alice", "0123456789abcdef0123456789abcdef"),
            ("run_tag", "aws", "value:aws_access_key_id", "refused", "alice", "0123456789abcdef0123456789abcdef"),
        ]);
        rows.ShouldAllBe(r => r.Time > 0);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Redacts_by_policy_and_records_the_redaction(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var guard = new SecretGuard(db.Factory, TimeProvider.System, Redacting());

        var verdict = await guard.CheckAsync(
            [new(SecretTargets.Param, "db_password", "x1"), new(SecretTargets.Param, "lr", "0.1"),
                SecretItem.Field(SecretTargets.RunName, "run_name", FakeSecrets.Jwt)],
            new SecretScope(ExperimentId: 7), ct: ct);

        verdict.Apply(SecretTargets.Param, "db_password", "x1").ShouldBe(SecretPolicy.RedactedValue);
        verdict.Apply(SecretTargets.Param, "lr", "0.1").ShouldBe("0.1");
        verdict.Apply(SecretTargets.RunName, "run_name", FakeSecrets.Jwt).ShouldBe(SecretPolicy.RedactedValue);
        // The same key of another target is not what was redacted.
        verdict.Apply(SecretTargets.RunTag, "db_password", "x1").ShouldBe("x1");
        await using var read = await db.Factory.CreateDbContextAsync(ct);
        (await read.SecretBlocks.OrderBy(b => b.Id).Select(b => new { b.Key, b.Rule, b.Action, b.ExperimentId, b.Actor }).ToListAsync(ct))
            .Select(b => (b.Key, b.Rule, b.Action, b.ExperimentId, b.Actor))
            .ShouldBe([("db_password", "key:password", "redacted", 7L, SecretGuard.UnknownActor),
                ("run_name", "value:jwt", "redacted", 7L, SecretGuard.UnknownActor)]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_a_key_that_is_itself_a_secret_even_when_redacting_and_never_records_it(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var guard = new SecretGuard(db.Factory, TimeProvider.System, Redacting());

        var e = await Should.ThrowAsync<MlflowException>(() => guard.CheckAsync(
            [new(SecretTargets.Param, FakeSecrets.AwsAccessKeyId, "1")], new SecretScope(), ct: ct));

        e.Message.ShouldNotContain(FakeSecrets.AwsAccessKeyId);
        e.Message.ShouldStartWith("Param with a key that itself looks like a secret (value:aws_access_key_id) looks like a secret");
        await using var read = await db.Factory.CreateDbContextAsync(ct);
        (await read.SecretBlocks.SingleAsync(ct)).Key.ShouldBe(SecretGuard.HiddenKey);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Lets_allowed_keys_and_everything_when_disabled_pass_without_a_record(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var allowing = new SecretGuard(db.Factory, TimeProvider.System, SecretPolicy.Create(true, SecretAction.Refuse, ["Tokenizer_Token", " db_password "]));
        var disabled = new SecretGuard(db.Factory, TimeProvider.System, SecretPolicy.Create(false, SecretAction.Refuse, null));

        (await allowing.CheckAsync([new(SecretTargets.Param, "db_password", "x"), new(SecretTargets.Param, "tokenizer_token", FakeSecrets.Jwt)],
            new SecretScope(), ct: ct)).IsClean.ShouldBeTrue();
        (await disabled.CheckAsync([new(SecretTargets.Param, "api_key", FakeSecrets.OpenAiKey)], new SecretScope(), ct: ct)).IsClean.ShouldBeTrue();
        // Allowing one key allows no other.
        await Should.ThrowAsync<MlflowException>(() => allowing.CheckAsync([new(SecretTargets.Param, "api_key", "x")], new SecretScope(), ct: ct));

        await using var read = await db.Factory.CreateDbContextAsync(ct);
        (await read.SecretBlocks.CountAsync(ct)).ShouldBe(1);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Records_the_ambient_actor_of_the_request(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var guard = new SecretGuard(db.Factory, TimeProvider.System);

        using (AmbientActor.Use("bob"))
        {
            await Should.ThrowAsync<MlflowException>(() => guard.CheckAsync([new(SecretTargets.Param, "token", "x")], new SecretScope(), ct: ct));
        }
        AmbientActor.Current.ShouldBeNull();

        await using var read = await db.Factory.CreateDbContextAsync(ct);
        (await read.SecretBlocks.SingleAsync(ct)).Actor.ShouldBe("bob");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_refused_log_batch_stores_nothing_of_the_batch(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var runs = new RunService(db.Factory, TimeProvider.System);
        var run = await runs.CreateRunAsync("0", "u", "r", 1, null, ct);

        await Should.ThrowAsync<MlflowException>(() => runs.LogBatchAsync(run.Id, [new MetricInput("loss", 1, 1, 0)],
            [new KeyValueInput("lr", "0.1"), new KeyValueInput("db_password", "x")], [new KeyValueInput("team", "a")], ct));

        var stored = await runs.GetRunAsync(run.Id, ct);
        stored.Params.ShouldBeEmpty();
        stored.LatestMetrics.ShouldBeEmpty();
        stored.Tags.Select(t => t.Key).ShouldBe([RunService.RunNameTag]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Redacted_writes_store_the_marker_in_every_service(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var guard = new SecretGuard(db.Factory, TimeProvider.System, Redacting());
        var runs = new RunService(db.Factory, TimeProvider.System, secrets: guard);
        var experiments = new ExperimentService(db.Factory, TimeProvider.System, guard);

        var run = await runs.CreateRunAsync("0", "u", FakeSecrets.UrlWithPassword, 1, [new KeyValueInput("hf_token", "x")], ct);
        await runs.LogParamAsync(run.Id, new KeyValueInput("db_password", "x"), ct);
        // Params are immutable: the same secret again is the same stored marker, not a change.
        await runs.LogParamAsync(run.Id, new KeyValueInput("db_password", "x"), ct);
        var experimentId = await experiments.CreateExperimentAsync("e-" + Guid.NewGuid().ToString("N"), null,
            [new KeyValueInput("owner", "ml"), new KeyValueInput("slack", FakeSecrets.SlackWebhook)], ct);

        var stored = await runs.GetRunAsync(run.Id, ct);
        stored.Name.ShouldBe(SecretPolicy.RedactedValue);
        stored.Params.Single().Value.ShouldBe(SecretPolicy.RedactedValue);
        stored.Tags.Single(t => t.Key == "hf_token").Value.ShouldBe(SecretPolicy.RedactedValue);
        stored.Tags.Single(t => t.Key == RunService.RunNameTag).Value.ShouldBe(SecretPolicy.RedactedValue);
        var experiment = await experiments.GetExperimentAsync(experimentId.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
        await using var read = await db.Factory.CreateDbContextAsync(ct);
        (await read.ExperimentTags.Where(t => t.ExperimentId == experiment.Id).OrderBy(t => t.Key).Select(t => t.Value).ToListAsync(ct))
            .ShouldBe(["ml", SecretPolicy.RedactedValue]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Pages_the_record_newest_first(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var guard = new SecretGuard(db.Factory, TimeProvider.System);
        foreach (var key in new[] { "a_token", "b_token", "c_token" })
        {
            await Should.ThrowAsync<MlflowException>(() => guard.CheckAsync([new(SecretTargets.Param, key, "x")], new SecretScope(), ct: ct));
        }

        var first = await guard.ListBlocksAsync(2, null, ct);
        first.Items.Select(b => b.Key).ShouldBe(["c_token", "b_token"]);
        var second = await guard.ListBlocksAsync(2, first.NextPageToken, ct);
        second.Items.Select(b => b.Key).ShouldBe(["a_token"]);
        second.NextPageToken.ShouldBeNull();
        (await Should.ThrowAsync<MlflowException>(() => guard.ListBlocksAsync(0, null, ct))).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        (await Should.ThrowAsync<MlflowException>(() => guard.ListBlocksAsync(1, "-1", ct))).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
    }
}
