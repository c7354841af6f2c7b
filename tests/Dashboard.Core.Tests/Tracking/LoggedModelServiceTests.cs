using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Tracking;

public class LoggedModelServiceTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Lists_the_model_versions_made_from_a_model_in_its_model_versions_tag(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var models = new LoggedModelService(db.Factory, TimeProvider.System);
        var model = await models.CreateAsync("0", "model", null, null, null, null, ct);

        await models.RecordModelVersionAsync(model.Id, "paddle-mnist", 1, ct);
        // The MLflow client rewrites the tag itself after each registration (recorded real-mlflow-3.9.0rc0 session, #127).
        await models.SetTagsAsync(model.Id, [new KeyValueInput(LoggedModelService.ModelVersionsTag,
            """[{"name": "paddle-mnist", "version": 1}, {"name": "paddle-mnist", "version": "1"}]""")], ct);
        await models.RecordModelVersionAsync(model.Id, "paddle-mnist", 2, ct);

        var tag = (await models.GetAsync(model.Id, ct)).Tags.Single(t => t.Key == LoggedModelService.ModelVersionsTag);
        // What the recorded MLflow 3.9 server stored after the second version (#193).
        tag.Value.ShouldBe("""[{"name": "paddle-mnist", "version": 1}, {"name": "paddle-mnist", "version": "1"}, {"name": "paddle-mnist", "version": 2}]""");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Records_concurrent_model_versions_without_losing_one(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var models = new LoggedModelService(db.Factory, TimeProvider.System);
        var model = await models.CreateAsync("0", null, null, null, null, null, ct);

        await Task.WhenAll(Enumerable.Range(1, 5).Select(v => models.RecordModelVersionAsync(model.Id, "m", v, ct)));

        var value = (await models.GetAsync(model.Id, ct)).Tags.Single().Value;
        JsonNode.Parse(value)!.AsArray().Select(e => e!["version"]!.GetValue<int>()).Order().ShouldBe([1, 2, 3, 4, 5]);
    }

    [Fact]
    public void A_model_finalizes_as_ready_or_failed_and_a_ready_model_stays_ready()
    {
        var model = new LoggedModel { Id = LoggedModel.NewId(), Name = "m", ArtifactLocation = "mlflow-artifacts:/0/models/x/artifacts" };

        Should.Throw<MlflowException>(() => model.FinalizeAs(LoggedModelStatus.Pending, 1)).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        model.FinalizeAs(LoggedModelStatus.UploadFailed, 2);
        model.FinalizeAs(LoggedModelStatus.Ready, 3);
        model.FinalizeAs(LoggedModelStatus.Ready, 4);
        Should.Throw<MlflowException>(() => model.FinalizeAs(LoggedModelStatus.UploadFailed, 5));
        (model.Status, model.LastUpdatedTime).ShouldBe((LoggedModelStatus.Ready, 4L));
    }
}
