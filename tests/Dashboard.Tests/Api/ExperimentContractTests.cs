using System.Net;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>The experiment RPCs of service.proto: shapes, errors and lifecycle, as MLflow's server answers them.</summary>
public class ExperimentContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_an_experiment_and_answers_its_id_as_a_string(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var reply = (await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(Name())}}}""")).ShouldBeOk();
        reply.Json.ShouldHaveShape("""{"experiment_id": "string"}""");
        long.Parse(reply.Json!["experiment_id"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ShouldBePositive();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Gets_an_experiment_by_id_and_by_name_with_mlflows_fields(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = Name();
        var id = (await server.PostAsync($"{Mlflow}/experiments/create",
            $$"""{"name": {{J(name)}}, "tags": [{"key": "team", "value": "vision"}]}""")).ShouldBeOk().Json!["experiment_id"]!.GetValue<string>();

        var byId = (await server.GetAsync($"{Mlflow}/experiments/get?experiment_id={id}")).ShouldBeOk();
        var byName = (await server.GetAsync($"{Mlflow}/experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}")).ShouldBeOk();

        foreach (var reply in new[] { byId, byName })
        {
            reply.Json.ShouldHaveShape($$"""{"experiment": {{Shapes.Experiment}}}""");
            var experiment = reply.Json!["experiment"]!;
            experiment["experiment_id"]!.GetValue<string>().ShouldBe(id);
            experiment["name"]!.GetValue<string>().ShouldBe(name);
            experiment["artifact_location"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{id}");
            experiment["lifecycle_stage"]!.GetValue<string>().ShouldBe("active");
            ValueOf(experiment["tags"], "team").ShouldBe("vision");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Searches_experiments_over_GET_and_POST_with_the_same_shape(DatabaseProvider provider)
    {
        await using var server = await DashboardServer.StartAsync(provider);
        var id = await ExperimentAsync(server, "searched");

        var post = (await server.PostAsync($"{Mlflow}/experiments/search", """{"max_results": 10, "view_type": "ACTIVE_ONLY"}""")).ShouldBeOk();
        var get = (await server.GetAsync($"{Mlflow}/experiments/search?max_results=10&view_type=ACTIVE_ONLY")).ShouldBeOk();

        foreach (var reply in new[] { post, get })
        {
            reply.Json.ShouldHaveShape($$"""{"experiments": [{{Shapes.Experiment}}], "next_page_token?": "string"}""");
            reply.Json!["experiments"]!.AsArray().Select(e => e!["experiment_id"]!.GetValue<string>()).Order()
                .ShouldBe(new[] { "0", id }.Order());
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Renames_an_experiment_and_answers_an_empty_message(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);
        var newName = Name("renamed");

        var reply = (await server.PostAsync($"{Mlflow}/experiments/update", $$"""{"experiment_id": {{J(id)}}, "new_name": {{J(newName)}}}""")).ShouldBeOk();

        reply.Json.ShouldHaveShape(Shapes.Empty);
        (await GetExperimentAsync(server, id))["name"]!.GetValue<string>().ShouldBe(newName);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Deletes_and_restores_an_experiment(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);

        (await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(id)}}}""")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await GetExperimentAsync(server, id))["lifecycle_stage"]!.GetValue<string>().ShouldBe("deleted");

        (await server.PostAsync($"{Mlflow}/experiments/restore", $$"""{"experiment_id": {{J(id)}}}""")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await GetExperimentAsync(server, id))["lifecycle_stage"]!.GetValue<string>().ShouldBe("active");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_when_deleting_a_deleted_experiment_or_restoring_an_active_one(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);

        var restoreActive = await server.PostAsync($"{Mlflow}/experiments/restore", $$"""{"experiment_id": {{J(id)}}}""");
        (await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(id)}}}""")).ShouldBeOk();
        var deleteDeleted = await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(id)}}}""");

        foreach (var reply in new[] { restoreActive, deleteDeleted })
        {
            reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
            reply.Message.ShouldBe($"No Experiment with id={id} exists");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_an_experiment_once_when_clients_race_for_its_name(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        for (var round = 0; round < 5; round++)
        {
            var name = Name("race");
            var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
                server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(name)}}}""")));

            replies.Count(r => r.Status == HttpStatusCode.OK).ShouldBe(1, string.Join("\n", replies.Select(r => r.Text)));
            foreach (var refused in replies.Where(r => r.Status != HttpStatusCode.OK))
            {
                refused.ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");
            }
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Sets_replaces_and_deletes_experiment_tags(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);

        (await server.PostAsync($"{Mlflow}/experiments/set-experiment-tag", $$"""{"experiment_id": {{J(id)}}, "key": "team", "value": "a"}"""))
            .ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await server.PostAsync($"{Mlflow}/experiments/set-experiment-tag", $$"""{"experiment_id": {{J(id)}}, "key": "team", "value": "b"}""")).ShouldBeOk();
        ValueOf((await GetExperimentAsync(server, id))["tags"], "team").ShouldBe("b");

        (await server.PostAsync($"{Mlflow}/experiments/delete-experiment-tag", $$"""{"experiment_id": {{J(id)}}, "key": "team"}"""))
            .ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await GetExperimentAsync(server, id))["tags"].ShouldBeNull();

        var missing = await server.PostAsync($"{Mlflow}/experiments/delete-experiment-tag", $$"""{"experiment_id": {{J(id)}}, "key": "team"}""");
        missing.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        missing.Message.ShouldBe($"No tag with name: team in experiment with id {id}");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Sets_one_experiment_tag_from_many_clients_at_once(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);

        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            server.PostAsync($"{Mlflow}/experiments/set-experiment-tag", $$"""{"experiment_id": {{J(id)}}, "key": "owner", "value": "client-{{i}}"}""")));

        replies.ShouldAllBe(r => r.Status == HttpStatusCode.OK, string.Join("\n", replies.Select(r => r.Text)));
        ValueOf((await GetExperimentAsync(server, id))["tags"], "owner")!.ShouldStartWith("client-");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Rejects_a_duplicate_experiment_name_with_resource_already_exists(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = Name();
        await ExperimentAsync(server, name);

        var reply = await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(name)}}}""");

        // MLflow answers RESOURCE_ALREADY_EXISTS with 400, not 409.
        reply.ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");
        reply.Message.ShouldBe($"Experiment(name={name}) already exists.");
        reply.Json.ShouldHaveShape(Shapes.Error);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Rejects_renaming_an_experiment_to_a_taken_name(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var taken = Name();
        await ExperimentAsync(server, taken);
        var id = await ExperimentAsync(server);

        var reply = await server.PostAsync($"{Mlflow}/experiments/update", $$"""{"experiment_id": {{J(id)}}, "new_name": {{J(taken)}}}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_an_experiment_name_of_500_characters_and_rejects_501(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var prefix = Name();
        var atLimit = prefix + new string('n', 500 - prefix.Length);

        (await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(atLimit)}}}""")).ShouldBeOk();
        var reply = await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(atLimit + "n")}}}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe("Experiment name exceeds the maximum length of 500 characters");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_an_experiment_tag_value_of_5000_characters_and_rejects_5001(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);

        (await server.PostAsync($"{Mlflow}/experiments/set-experiment-tag",
            $$"""{"experiment_id": {{J(id)}}, "key": "note", "value": {{J(new string('v', 5000))}}}""")).ShouldBeOk();
        var reply = await server.PostAsync($"{Mlflow}/experiments/set-experiment-tag",
            $$"""{"experiment_id": {{J(id)}}, "key": "note", "value": {{J(new string('v', 5001))}}}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe("'value' exceeds the maximum length of 5000 characters");
        ValueOf((await GetExperimentAsync(server, id))["tags"], "note")!.Length.ShouldBe(5000);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_for_an_unknown_experiment_id_or_name(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = Name("missing");

        var byId = await server.GetAsync($"{Mlflow}/experiments/get?experiment_id=987654321");
        var byName = await server.GetAsync($"{Mlflow}/experiments/get-by-name?experiment_name={name}");

        byId.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        byId.Message.ShouldBe("No Experiment with id=987654321 exists");
        byName.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        byName.Message.ShouldBe($"Could not find experiment with name '{name}'");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Deleting_an_experiment_deletes_its_active_runs_and_restoring_it_restores_only_those(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);
        var kept = await RunAsync(server, id);
        var deletedBefore = await RunAsync(server, id);
        (await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": {{J(deletedBefore)}}}""")).ShouldBeOk();

        (await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(id)}}}""")).ShouldBeOk();
        (await GetRunAsync(server, kept))["info"]!["lifecycle_stage"]!.GetValue<string>().ShouldBe("deleted");

        (await server.PostAsync($"{Mlflow}/experiments/restore", $$"""{"experiment_id": {{J(id)}}}""")).ShouldBeOk();
        (await GetRunAsync(server, kept))["info"]!["lifecycle_stage"]!.GetValue<string>().ShouldBe("active");
        (await GetRunAsync(server, deletedBefore))["info"]!["lifecycle_stage"]!.GetValue<string>().ShouldBe("deleted");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Stores_markup_in_experiment_names_and_tags_as_data(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = $"<script>alert('{Guid.NewGuid():N}')</script>";
        const string value = "<img src=x onerror=alert(1)> & \"quoted\"";
        var id = await ExperimentAsync(server, name);
        (await server.PostAsync($"{Mlflow}/experiments/set-experiment-tag", $$"""{"experiment_id": {{J(id)}}, "key": "html", "value": {{J(value)}}}""")).ShouldBeOk();

        using var response = await server.Client.GetAsync($"{Mlflow}/experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        var experiment = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["experiment"]!;
        experiment["name"]!.GetValue<string>().ShouldBe(name);
        ValueOf(experiment["tags"], "html").ShouldBe(value);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_to_rename_or_tag_a_deleted_experiment(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var id = await ExperimentAsync(server);
        (await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(id)}}}""")).ShouldBeOk();

        var rename = await server.PostAsync($"{Mlflow}/experiments/update", $$"""{"experiment_id": {{J(id)}}, "new_name": {{J(Name())}}}""");
        var tag = await server.PostAsync($"{Mlflow}/experiments/set-experiment-tag", $$"""{"experiment_id": {{J(id)}}, "key": "k", "value": "v"}""");

        // MLflow answers INVALID_STATE (a 500) on rename; a request that cannot succeed is the caller's to fix.
        rename.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        rename.Message.ShouldBe("Cannot rename a non-active experiment.");
        tag.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        tag.Message.ShouldBe($"The experiment {id} must be in the 'active' state. Current state is deleted.");
    }
}
