using System.Net;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeRegistry;

namespace Dashboard.Tests.Api;

/// <summary>The RPCs of model_registry.proto: shapes, MLflow's errors, numbering, stages, aliases and their history.</summary>
public class RegistryContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    // ---- Registered models ---------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_a_registered_model_with_mlflows_fields(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var plain = Name("model");
        var described = Name("model");

        var bare = (await server.PostAsync($"{Models}/create", $$"""{"name": {{J(plain)}}}""")).ShouldBeOk();
        var full = (await server.PostAsync($"{Models}/create",
            $$"""{"name": {{J(described)}}, "tags": [{"key": "task", "value": "mnist"}], "description": "a CNN"}""")).ShouldBeOk();

        bare.Json.ShouldHaveShape($$"""{"registered_model": {{Shapes.RegisteredModel}}}""");
        var model = bare.Json!["registered_model"]!.AsObject();
        // MLflow leaves out a description never set, and empty tags, aliases and latest versions.
        model.Select(p => p.Key).ShouldBe(["name", "creation_timestamp", "last_updated_timestamp"]);
        Str(model["name"]).ShouldBe(plain);
        model["creation_timestamp"]!.GetValue<long>().ShouldBe(model["last_updated_timestamp"]!.GetValue<long>());
        var other = full.Json!["registered_model"]!;
        Str(other["description"]).ShouldBe("a CNN");
        ValueOf(other["tags"], "task").ShouldBe("mnist");
        (await GetModelAsync(server, described)).ToJsonString().ShouldBe(other.ToJsonString());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Rejects_a_duplicate_registered_model_name_with_resource_already_exists(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);

        var reply = await server.PostAsync($"{Models}/create", $$"""{"name": {{J(name)}}}""");

        // MLflow answers RESOURCE_ALREADY_EXISTS with 400, not 409; MLflow 3 without the SQL error text.
        reply.ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");
        reply.Message.ShouldBe($"Registered Model (name={name}) already exists.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_a_registered_model_once_when_clients_race_for_its_name(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = Name("race");

        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            server.PostAsync($"{Models}/create", $$"""{"name": {{J(name)}}}""")));

        replies.Count(r => r.Status == HttpStatusCode.OK).ShouldBe(1, string.Join("\n", replies.Select(r => r.Text)));
        foreach (var refused in replies.Where(r => r.Status != HttpStatusCode.OK))
        {
            refused.ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_mlflows_missing_value_error_for_a_missing_name_on_every_rpc(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        var replies = new[]
        {
            await server.PostAsync($"{Models}/create", "{}"),
            await server.PostAsync($"{Models}/create", """{"name": ""}"""),
            await server.GetAsync($"{Models}/get"),
            await server.PostAsync($"{Models}/update", """{"description": "x"}""", "PATCH"),
            await server.PostAsync($"{Models}/rename", """{"new_name": "x"}"""),
            await server.PostAsync($"{Models}/delete", "{}", "DELETE"),
            await server.GetAsync($"{Models}/get-latest-versions"),
            await server.PostAsync($"{Models}/set-tag", """{"key": "k", "value": "v"}"""),
            await server.PostAsync($"{Models}/delete-tag", """{"key": "k"}""", "DELETE"),
            await server.PostAsync($"{Models}/alias", """{"alias": "a", "version": "1"}"""),
            await server.PostAsync($"{Models}/alias", """{"alias": "a"}""", "DELETE"),
            await server.GetAsync($"{Models}/alias?alias=a"),
            await server.PostAsync($"{Versions}/create", """{"source": "mlflow-artifacts:/1/x/artifacts/model"}"""),
            await server.GetAsync($"{Versions}/get?version=1"),
            await server.PostAsync($"{Versions}/update", """{"version": "1"}""", "PATCH"),
            await server.PostAsync($"{Versions}/transition-stage", """{"version": "1", "stage": "Staging"}"""),
            await server.PostAsync($"{Versions}/delete", """{"version": "1"}""", "DELETE"),
            await server.GetAsync($"{Versions}/get-download-uri?version=1"),
            await server.PostAsync($"{Versions}/set-tag", """{"version": "1", "key": "k", "value": "v"}"""),
            await server.PostAsync($"{Versions}/delete-tag", """{"version": "1", "key": "k"}""", "DELETE"),
        };

        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldBe("Missing value for required parameter 'name'.");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_model_names_that_break_model_uris_or_outgrow_256_characters(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var prefix = Name("long");
        var atLimit = prefix + new string('n', 256 - prefix.Length);

        await ModelAsync(server, atLimit);
        var replies = new Dictionary<string, Reply>
        {
            ["too long"] = await server.PostAsync($"{Models}/create", $$"""{"name": {{J(atLimit + "n")}}}"""),
            ["slash"] = await server.PostAsync($"{Models}/create", """{"name": "team/model"}"""),
            ["colon"] = await server.PostAsync($"{Models}/create", """{"name": "models:model"}"""),
        };

        foreach (var (_, reply) in replies)
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }
        replies["too long"].Message.ShouldBe("'name' exceeds the maximum length of 256 characters");
        replies["slash"].Message!.ShouldStartWith("Invalid registered model name: 'team/model'.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_for_an_unknown_registered_model(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = Name("missing");

        var replies = new[]
        {
            await server.GetAsync($"{Models}/get?name={name}"),
            await server.PostAsync($"{Models}/update", $$"""{"name": {{J(name)}}, "description": "x"}""", "PATCH"),
            await server.PostAsync($"{Models}/rename", $$"""{"name": {{J(name)}}, "new_name": {{J(Name())}}}"""),
            await server.PostAsync($"{Models}/delete", $$"""{"name": {{J(name)}}}""", "DELETE"),
            await server.GetAsync($"{Models}/get-latest-versions?name={name}"),
            await server.PostAsync($"{Models}/set-tag", $$"""{"name": {{J(name)}}, "key": "k", "value": "v"}"""),
            await server.PostAsync($"{Models}/delete-tag", $$"""{"name": {{J(name)}}, "key": "k"}""", "DELETE"),
            await server.PostAsync($"{Models}/alias", $$"""{"name": {{J(name)}}, "alias": "a"}""", "DELETE"),
        };

        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
            reply.Message.ShouldBe($"Registered Model with name={name} not found");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Updates_a_models_description_and_clears_it_when_none_is_sent(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);

        var updated = (await server.PostAsync($"{Models}/update", $$"""{"name": {{J(name)}}, "description": "SimpleCNN"}""", "PATCH"))
            .ShouldBeOk().Json!;
        var cleared = (await server.PostAsync($"{Models}/update", $$"""{"name": {{J(name)}}}""", "PATCH")).ShouldBeOk().Json!;

        updated.ShouldHaveShape($$"""{"registered_model": {{Shapes.RegisteredModel}}}""");
        Str(updated["registered_model"]!["description"]).ShouldBe("SimpleCNN");
        Numbers(updated["registered_model"]!["latest_versions"]).ShouldBe(["1"]);
        cleared["registered_model"]!["description"].ShouldBeNull();
        (await GetModelAsync(server, name))["description"].ShouldBeNull();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Renames_a_model_and_its_versions_tags_aliases_and_history_follow(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server, extra: """, "tags": [{"key": "team", "value": "vision"}]""");
        await VersionAsync(server, name);
        (await SetAliasAsync(server, name, "champion", "1")).ShouldBeOk();
        var newName = Name("renamed");

        var renamed = (await server.PostAsync($"{Models}/rename", $$"""{"name": {{J(name)}}, "new_name": {{J(newName)}}}""")).ShouldBeOk().Json!;

        Str(renamed["registered_model"]!["name"]).ShouldBe(newName);
        (await server.GetAsync($"{Models}/get?name={name}")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        var model = await GetModelAsync(server, newName);
        ValueOf(model["tags"], "team").ShouldBe("vision");
        Str(model["aliases"]![0]!["alias"]).ShouldBe("champion");
        Str(model["latest_versions"]![0]!["name"]).ShouldBe(newName);
        Str((await GetVersionAsync(server, newName, "1")).ShouldBeOk().Json!["model_version"]!["name"]).ShouldBe(newName);
        Str((await GetByAliasAsync(server, newName, "champion")).ShouldBeOk().Json!["model_version"]!["version"]).ShouldBe("1");
        (await RegistryHistoryAsync(server, newName)).Count.ShouldBe(1);
        // The next version continues the numbering.
        Str((await VersionAsync(server, newName))["version"]).ShouldBe("2");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_renaming_to_a_taken_or_missing_name(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var taken = await ModelAsync(server);
        var name = await ModelAsync(server);

        var toTaken = await server.PostAsync($"{Models}/rename", $$"""{"name": {{J(name)}}, "new_name": {{J(taken)}}}""");
        var toNothing = await server.PostAsync($"{Models}/rename", $$"""{"name": {{J(name)}}}""");
        var toSlash = await server.PostAsync($"{Models}/rename", $$"""{"name": {{J(name)}}, "new_name": "a/b"}""");

        toTaken.ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");
        toTaken.Message.ShouldBe($"Registered Model (name={taken}) already exists.");
        toNothing.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        toNothing.Message.ShouldBe("Missing value for required parameter 'new_name'.");
        toSlash.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await GetModelAsync(server, name))["name"]!.GetValue<string>().ShouldBe(name);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Deletes_a_model_with_its_versions_tags_and_aliases(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server, extra: """, "tags": [{"key": "team", "value": "vision"}]""");
        await VersionAsync(server, name, """, "tags": [{"key": "k", "value": "v"}]""");
        await VersionAsync(server, name);
        (await SetAliasAsync(server, name, "champion", "2")).ShouldBeOk();

        (await server.PostAsync($"{Models}/delete", $$"""{"name": {{J(name)}}}""", "DELETE")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);

        (await server.GetAsync($"{Models}/get?name={name}")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await GetVersionAsync(server, name, "1")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await GetByAliasAsync(server, name, "champion")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        // A model made again under the name is a new model: nothing of the old one, numbering from 1.
        await ModelAsync(server, name);
        var fresh = await GetModelAsync(server, name);
        fresh["tags"].ShouldBeNull();
        fresh["aliases"].ShouldBeNull();
        fresh["latest_versions"].ShouldBeNull();
        Str((await VersionAsync(server, name))["version"]).ShouldBe("1");
        (await RegistryHistoryAsync(server, name)).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Sets_replaces_and_deletes_registered_model_tags(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);

        (await server.PostAsync($"{Models}/set-tag", $$"""{"name": {{J(name)}}, "key": "task", "value": "a"}""")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await server.PostAsync($"{Models}/set-tag", $$"""{"name": {{J(name)}}, "key": "task", "value": "b"}""")).ShouldBeOk();
        (await server.PostAsync($"{Models}/set-tag", $$"""{"name": {{J(name)}}, "key": "empty"}""")).ShouldBeOk();
        var model = await GetModelAsync(server, name);
        ValueOf(model["tags"], "task").ShouldBe("b");
        ValueOf(model["tags"], "empty").ShouldBe("");

        (await server.PostAsync($"{Models}/delete-tag", $$"""{"name": {{J(name)}}, "key": "task"}""", "DELETE")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        // Deleting a tag that is not there is no error in MLflow either.
        (await server.PostAsync($"{Models}/delete-tag", $$"""{"name": {{J(name)}}, "key": "task"}""", "DELETE")).ShouldBeOk();
        Find((await GetModelAsync(server, name))["tags"], "task").ShouldBeNull();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Limits_registry_tags_to_mlflows_key_rules_and_5000_character_values(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        var key250 = new string('k', 250);
        var value5000 = new string('v', 5000);

        foreach (var (path, version) in new[] { ($"{Models}/set-tag", ""), ($"{Versions}/set-tag", """, "version": "1" """) })
        {
            (await server.PostAsync(path, $$"""{"name": {{J(name)}}{{version}}, "key": {{J(key250)}}, "value": {{J(value5000)}}}""")).ShouldBeOk();
            var longKey = await server.PostAsync(path, $$"""{"name": {{J(name)}}{{version}}, "key": {{J(key250 + "k")}}, "value": "v"}""");
            var longValue = await server.PostAsync(path, $$"""{"name": {{J(name)}}{{version}}, "key": "k", "value": {{J(value5000 + "v")}}}""");
            var badKey = await server.PostAsync(path, $$"""{"name": {{J(name)}}{{version}}, "key": "a*b", "value": "v"}""");
            var dotted = await server.PostAsync(path, $$"""{"name": {{J(name)}}{{version}}, "key": "../k", "value": "v"}""");
            var noKey = await server.PostAsync(path, $$"""{"name": {{J(name)}}{{version}}, "value": "v"}""");

            longKey.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("'key' exceeds the maximum length of 250 characters");
            longValue.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("'value' exceeds the maximum length of 5000 characters");
            badKey.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message!.ShouldStartWith("Invalid value \"a*b\" for parameter 'key' supplied");
            dotted.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            noKey.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("Missing value for required parameter 'key'.");
        }
        var inCreate = await server.PostAsync($"{Models}/create",
            $$"""{"name": {{J(Name())}}, "tags": [{"key": "k", "value": {{J(value5000 + "v")}}}]}""");
        inCreate.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        ValueOf((await GetModelAsync(server, name))["tags"], key250).ShouldBe(value5000);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Limits_descriptions_to_5000_characters_and_run_links_to_500(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var d5000 = new string('d', 5000);
        var name = await ModelAsync(server, extra: $$""", "description": {{J(d5000)}}""");
        var (runId, source) = await RunSourceAsync(server);
        (await CreateVersionAsync(server, name, source, runId, $$""", "description": {{J(d5000)}}, "run_link": {{J(new string('l', 500))}}""")).ShouldBeOk();

        var replies = new[]
        {
            await server.PostAsync($"{Models}/create", $$"""{"name": {{J(Name())}}, "description": {{J(d5000 + "d")}}}"""),
            await server.PostAsync($"{Models}/update", $$"""{"name": {{J(name)}}, "description": {{J(d5000 + "d")}}}""", "PATCH"),
            await CreateVersionAsync(server, name, source, runId, $$""", "description": {{J(d5000 + "d")}}"""),
            await server.PostAsync($"{Versions}/update", $$"""{"name": {{J(name)}}, "version": "1", "description": {{J(d5000 + "d")}}}""", "PATCH"),
        };
        var runLink = await CreateVersionAsync(server, name, source, runId, $$""", "run_link": {{J(new string('l', 501))}}""");

        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldBe("'description' exceeds the maximum length of 5000 characters");
        }
        runLink.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("'run_link' exceeds the maximum length of 500 characters");
        Str((await GetModelAsync(server, name))["description"]).ShouldBe(d5000);
        Numbers((await GetModelAsync(server, name))["latest_versions"]).ShouldBe(["1"]);
    }

    // ---- Model versions ------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_versions_ready_with_mlflows_fields_and_increasing_numbers(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        var (runId, source) = await RunSourceAsync(server);

        var first = (await CreateVersionAsync(server, name, source, runId)).ShouldBeOk().Json!;
        var second = (await CreateVersionAsync(server, name, source, runId,
            """, "tags": [{"key": "source", "value": "register_model"}], "description": "retrained", "run_link": "http://ci/1" """)).ShouldBeOk().Json!;

        first.ShouldHaveShape($$"""{"model_version": {{Shapes.ModelVersion}}}""");
        var v1 = first["model_version"]!.AsObject();
        // MLflow writes description and run_link even when empty, and no aliases for a new version.
        v1.Select(p => p.Key).ShouldBe(["name", "version", "creation_timestamp", "last_updated_timestamp", "current_stage", "description",
            "source", "run_id", "status", "run_link"]);
        Str(v1["version"]).ShouldBe("1");
        Str(v1["status"]).ShouldBe("READY");
        Str(v1["current_stage"]).ShouldBe("None");
        Str(v1["description"]).ShouldBe("");
        Str(v1["run_link"]).ShouldBe("");
        Str(v1["source"]).ShouldBe(source);
        Str(v1["run_id"]).ShouldBe(runId);
        var v2 = second["model_version"]!;
        Str(v2["version"]).ShouldBe("2");
        Str(v2["description"]).ShouldBe("retrained");
        Str(v2["run_link"]).ShouldBe("http://ci/1");
        ValueOf(v2["tags"], "source").ShouldBe("register_model");
        (await GetVersionAsync(server, name, "2")).ShouldBeOk().Json!["model_version"]!.ToJsonString().ShouldBe(v2.ToJsonString());
        var model = await GetModelAsync(server, name);
        model["last_updated_timestamp"]!.GetValue<long>().ShouldBe(v2["creation_timestamp"]!.GetValue<long>());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Numbers_versions_distinctly_and_in_order_when_clients_register_at_once(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        var (runId, source) = await RunSourceAsync(server);

        var replies = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => CreateVersionAsync(server, name, source, runId)));

        replies.ShouldAllBe(r => r.Status == HttpStatusCode.OK, string.Join("\n", replies.Select(r => r.Text)));
        var numbers = replies.Select(r => int.Parse(Str(r.Json!["model_version"]!["version"]), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        numbers.Order().ShouldBe(Enumerable.Range(1, 24));
        // A later registration got a later number.
        var byTime = replies.Select(r => r.Json!["model_version"]!).OrderBy(v => v["creation_timestamp"]!.GetValue<long>()).ToList();
        for (var i = 1; i < byTime.Count; i++)
        {
            if (byTime[i]["creation_timestamp"]!.GetValue<long>() > byTime[i - 1]["creation_timestamp"]!.GetValue<long>())
            {
                int.Parse(Str(byTime[i]["version"]), System.Globalization.CultureInfo.InvariantCulture)
                    .ShouldBeGreaterThan(int.Parse(Str(byTime[i - 1]["version"]), System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        Str((await VersionAsync(server, name))["version"]).ShouldBe("25");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Never_gives_a_deleted_versions_number_again(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        await VersionAsync(server, name);

        (await server.PostAsync($"{Versions}/delete", $$"""{"name": {{J(name)}}, "version": "2"}""", "DELETE")).ShouldBeOk();

        Str((await VersionAsync(server, name))["version"]).ShouldBe("3");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_when_registering_a_version_of_an_unknown_model(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = Name("missing");
        var (runId, source) = await RunSourceAsync(server);

        var reply = await CreateVersionAsync(server, name, source, runId);

        reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        reply.Message.ShouldBe($"Registered Model with name={name} not found");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_a_version_without_a_source(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);

        var reply = await server.PostAsync($"{Versions}/create", $$"""{"name": {{J(name)}}}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe("Missing value for required parameter 'source'.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_for_unknown_versions_and_400_for_versions_that_are_not_numbers(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        var unknownModel = Name("missing");

        foreach (var (model, version) in new[] { (name, "99"), (name, "0"), (name, "-1"), (unknownModel, "1") })
        {
            var replies = new[]
            {
                await GetVersionAsync(server, model, version),
                await server.GetAsync($"{Versions}/get-download-uri?name={model}&version={version}"),
                await server.PostAsync($"{Versions}/update", $$"""{"name": {{J(model)}}, "version": {{J(version)}}, "description": "x"}""", "PATCH"),
                await TransitionAsync(server, model, version, "Staging"),
                await server.PostAsync($"{Versions}/delete", $$"""{"name": {{J(model)}}, "version": {{J(version)}}}""", "DELETE"),
                await server.PostAsync($"{Versions}/set-tag", $$"""{"name": {{J(model)}}, "version": {{J(version)}}, "key": "k", "value": "v"}"""),
                await server.PostAsync($"{Versions}/delete-tag", $$"""{"name": {{J(model)}}, "version": {{J(version)}}, "key": "k"}""", "DELETE"),
                await SetAliasAsync(server, model, "champion", version),
            };
            foreach (var reply in replies)
            {
                reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
                reply.Message.ShouldBe($"Model Version (name={model}, version={version}) not found");
            }
        }
        foreach (var version in new[] { "abc", "1.5", "1e3", "+" })
        {
            var reply = await GetVersionAsync(server, name, version);
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldBe($"Parameter 'version' must be an integer, got '{version}'.");
        }
        (await server.GetAsync($"{Versions}/get?name={name}")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Missing value for required parameter 'version'.");
        // A number must travel as a string, as the proto's field is one.
        (await server.PostAsync($"{Versions}/update", $$"""{"name": {{J(name)}}, "version": 1}""", "PATCH"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Updates_a_versions_description(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        var created = await VersionAsync(server, name);

        var reply = (await server.PostAsync($"{Versions}/update", $$"""{"name": {{J(name)}}, "version": "1", "description": "retrained"}""", "PATCH"))
            .ShouldBeOk().Json!;

        reply.ShouldHaveShape($$"""{"model_version": {{Shapes.ModelVersion}}}""");
        Str(reply["model_version"]!["description"]).ShouldBe("retrained");
        reply["model_version"]!["last_updated_timestamp"]!.GetValue<long>().ShouldBeGreaterThanOrEqualTo(created["last_updated_timestamp"]!.GetValue<long>());
        Str((await GetVersionAsync(server, name, "1")).ShouldBeOk().Json!["model_version"]!["description"]).ShouldBe("retrained");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_the_artifact_location_of_a_version_as_its_download_uri(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        var (runId, source) = await RunSourceAsync(server);
        (await CreateVersionAsync(server, name, source, runId)).ShouldBeOk();
        (await CreateVersionAsync(server, name, $"runs:/{runId}/model", runId)).ShouldBeOk();

        var direct = (await server.GetAsync($"{Versions}/get-download-uri?name={name}&version=1")).ShouldBeOk().Json!;
        var viaRun = (await server.GetAsync($"{Versions}/get-download-uri?name={name}&version=2")).ShouldBeOk().Json!;

        direct.ShouldHaveShape("""{"artifact_uri": "string"}""");
        Str(direct["artifact_uri"]).ShouldBe(source);
        // A runs:/ source is stored as sent and downloads from the run's artifacts.
        Str(viaRun["artifact_uri"]).ShouldBe(source);
        Str((await GetVersionAsync(server, name, "2")).ShouldBeOk().Json!["model_version"]!["source"]).ShouldBe($"runs:/{runId}/model");
    }

    // ---- Stages --------------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Transitions_a_version_and_archives_the_others_in_that_stage_when_asked(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        for (var i = 0; i < 4; i++)
        {
            await VersionAsync(server, name);
        }
        (await TransitionAsync(server, name, "1", "Production")).ShouldBeOk();
        (await TransitionAsync(server, name, "2", "Production")).ShouldBeOk();
        (await TransitionAsync(server, name, "3", "Staging")).ShouldBeOk();

        var reply = (await TransitionAsync(server, name, "4", "Production", archive: true)).ShouldBeOk().Json!;

        reply.ShouldHaveShape($$"""{"model_version": {{Shapes.ModelVersion}}}""");
        var v4 = reply["model_version"]!;
        Str(v4["current_stage"]).ShouldBe("Production");
        var stamp = v4["last_updated_timestamp"]!.GetValue<long>();
        foreach (var (version, stage) in new[] { ("1", "Archived"), ("2", "Archived"), ("3", "Staging") })
        {
            var v = (await GetVersionAsync(server, name, version)).ShouldBeOk().Json!["model_version"]!;
            Str(v["current_stage"]).ShouldBe(stage);
            if (stage == "Archived")
            {
                v["last_updated_timestamp"]!.GetValue<long>().ShouldBe(stamp);
            }
        }
        var model = await GetModelAsync(server, name);
        model["last_updated_timestamp"]!.GetValue<long>().ShouldBe(stamp);
        // MLflow's latest versions: one per stage, the stages in the order of their lowest version.
        model["latest_versions"]!.AsArray().Select(v => (Str(v!["current_stage"]), Str(v["version"])))
            .ShouldBe([("Archived", "2"), ("Staging", "3"), ("Production", "4")]);
        var history = await RegistryHistoryAsync(server, name);
        history.Select(e => (Str(e!["kind"]), e["version"]!.GetValue<int>(), Str(e["from"]), Str(e["to"]))).Take(3).ShouldBe(
            [("stage_changed", 2, "Production", "Archived"), ("stage_changed", 1, "Production", "Archived"), ("stage_changed", 4, "None", "Production")]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Takes_stage_names_in_any_case_and_refuses_unknown_ones(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);

        Str((await TransitionAsync(server, name, "1", "production")).ShouldBeOk().Json!["model_version"]!["current_stage"]).ShouldBe("Production");
        Str((await TransitionAsync(server, name, "1", "STAGING")).ShouldBeOk().Json!["model_version"]!["current_stage"]).ShouldBe("Staging");
        var unknown = await TransitionAsync(server, name, "1", "Canary");
        var archiveToNone = await TransitionAsync(server, name, "1", "none", archive: true);
        var noStage = await server.PostAsync($"{Versions}/transition-stage", $$"""{"name": {{J(name)}}, "version": "1"}""");

        unknown.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        unknown.Message.ShouldBe("Invalid Model Version stage: Canary. Value must be one of None, Staging, Production, Archived.");
        // MLflow answers this one with a 500; a request that cannot be done is the caller's to fix.
        archiveToNone.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        archiveToNone.Message.ShouldBe("Model version transition cannot archive existing model versions because 'none' is not an Active stage. " +
            "Valid stages are ['Staging', 'Production']");
        noStage.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("Missing value for required parameter 'stage'.");
        Str((await GetVersionAsync(server, name, "1")).ShouldBeOk().Json!["model_version"]!["current_stage"]).ShouldBe("Staging");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_the_latest_version_of_each_stage_over_get_and_post(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        for (var i = 0; i < 4; i++)
        {
            await VersionAsync(server, name);
        }
        (await TransitionAsync(server, name, "2", "Staging")).ShouldBeOk();
        (await TransitionAsync(server, name, "3", "Production")).ShouldBeOk();
        (await SetAliasAsync(server, name, "champion", "3")).ShouldBeOk();

        var all = (await server.PostAsync($"{Models}/get-latest-versions", $$"""{"name": {{J(name)}}}""")).ShouldBeOk().Json!;
        var production = (await server.GetAsync($"{Models}/get-latest-versions?name={name}&stages=production")).ShouldBeOk().Json!;
        var two = (await server.GetAsync($"{Models}/get-latest-versions?name={name}&stages=Staging&stages=None")).ShouldBeOk().Json!;
        var bad = await server.PostAsync($"{Models}/get-latest-versions", $$"""{"name": {{J(name)}}, "stages": ["Shadow"]}""");

        all.ShouldHaveShape($$"""{"model_versions": [{{Shapes.ModelVersion}}]}""");
        all["model_versions"]!.AsArray().Select(v => (Str(v!["current_stage"]), Str(v["version"])))
            .ShouldBe([("None", "4"), ("Staging", "2"), ("Production", "3")]);
        Numbers(production["model_versions"]).ShouldBe(["3"]);
        // As MLflow 3, this RPC answers each version's aliases.
        production["model_versions"]![0]!["aliases"]!.AsArray().Select(Str).ShouldBe(["champion"]);
        Numbers(two["model_versions"]).ShouldBe(["4", "2"]);
        bad.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        bad.Message.ShouldBe("Invalid Model Version stage: Shadow. Value must be one of None, Staging, Production, Archived.");
    }

    // ---- Deleted versions ----------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Hides_a_deleted_version_everywhere_and_removes_its_aliases(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        await VersionAsync(server, name);
        (await TransitionAsync(server, name, "2", "Production")).ShouldBeOk();
        (await SetAliasAsync(server, name, "champion", "2")).ShouldBeOk();
        (await SetAliasAsync(server, name, "stable", "1")).ShouldBeOk();

        (await server.PostAsync($"{Versions}/delete", $$"""{"name": {{J(name)}}, "version": "2"}""", "DELETE")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);

        (await GetVersionAsync(server, name, "2")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")
            .Message.ShouldBe($"Model Version (name={name}, version=2) not found");
        (await server.GetAsync($"{Versions}/get-download-uri?name={name}&version=2")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.PostAsync($"{Versions}/delete", $$"""{"name": {{J(name)}}, "version": "2"}""", "DELETE"))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await SetAliasAsync(server, name, "other", "2")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await GetByAliasAsync(server, name, "champion")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        var model = await GetModelAsync(server, name);
        Numbers(model["latest_versions"]).ShouldBe(["1"]);
        model["aliases"]!.AsArray().Select(a => Str(a!["alias"])).ShouldBe(["stable"]);
        var latest = (await server.GetAsync($"{Models}/get-latest-versions?name={name}&stages=Production")).ShouldBeOk().Json!;
        latest["model_versions"].ShouldBeNull();
        var history = await RegistryHistoryAsync(server, name, "2");
        Str(history[0]!["kind"]).ShouldBe("alias_deleted");
        Str(history[0]!["alias"]).ShouldBe("champion");
        Str(history[0]!["from"]).ShouldBe("2");
        history[0]!["to"].ShouldBeNull();
    }

    // ---- Version tags --------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Sets_replaces_and_deletes_version_tags(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        await VersionAsync(server, name);

        (await server.PostAsync($"{Versions}/set-tag", $$"""{"name": {{J(name)}}, "version": "1", "key": "validation", "value": "a"}"""))
            .ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await server.PostAsync($"{Versions}/set-tag", $$"""{"name": {{J(name)}}, "version": "1", "key": "validation", "value": "approved"}""")).ShouldBeOk();
        (await server.PostAsync($"{Versions}/set-tag", $$"""{"name": {{J(name)}}, "version": "1", "key": "temp", "value": "x"}""")).ShouldBeOk();
        (await server.PostAsync($"{Versions}/delete-tag", $$"""{"name": {{J(name)}}, "version": "1", "key": "temp"}""", "DELETE"))
            .ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await server.PostAsync($"{Versions}/delete-tag", $$"""{"name": {{J(name)}}, "version": "1", "key": "temp"}""", "DELETE")).ShouldBeOk();

        var v1 = (await GetVersionAsync(server, name, "1")).ShouldBeOk().Json!["model_version"]!;
        v1["tags"]!.AsArray().Select(t => (Str(t!["key"]), Str(t["value"]))).ShouldBe([("validation", "approved")]);
        (await GetVersionAsync(server, name, "2")).ShouldBeOk().Json!["model_version"]!["tags"].ShouldBeNull();
    }

    // ---- Aliases -------------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Sets_moves_resolves_and_deletes_aliases_and_records_each_change(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        await VersionAsync(server, name);

        (await SetAliasAsync(server, name, "champion", "1")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await SetAliasAsync(server, name, "challenger", "2")).ShouldBeOk();
        var champion = (await GetByAliasAsync(server, name, "champion")).ShouldBeOk().Json!;
        (await SetAliasAsync(server, name, "challenger", "1")).ShouldBeOk();
        (await SetAliasAsync(server, name, "challenger", "1")).ShouldBeOk();
        var v1 = (await GetVersionAsync(server, name, "1")).ShouldBeOk().Json!["model_version"]!;
        var model = await GetModelAsync(server, name);
        (await server.PostAsync($"{Models}/alias", $$"""{"name": {{J(name)}}, "alias": "challenger"}""", "DELETE")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        // Deleting an alias that is not there is no error, as in MLflow.
        (await server.PostAsync($"{Models}/alias", $$"""{"name": {{J(name)}}, "alias": "challenger"}""", "DELETE")).ShouldBeOk();
        var gone = await GetByAliasAsync(server, name, "challenger");

        champion.ShouldHaveShape($$"""{"model_version": {{Shapes.ModelVersion}}}""");
        Str(champion["model_version"]!["version"]).ShouldBe("1");
        champion["model_version"]!["aliases"]!.AsArray().Select(Str).ShouldBe(["champion"]);
        v1["aliases"]!.AsArray().Select(Str).ShouldBe(["challenger", "champion"]);
        model["aliases"]!.AsArray().Select(a => (Str(a!["alias"]), Str(a["version"]))).ShouldBe([("challenger", "1"), ("champion", "1")]);
        gone.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        gone.Message.ShouldBe("Registered model alias challenger not found.");

        var history = await RegistryHistoryAsync(server, name);
        history.Select(e => (Str(e!["kind"]), Str(e["alias"]), e["from"]?.GetValue<string>(), e["to"]?.GetValue<string>())).ShouldBe(
        [
            ("alias_deleted", "challenger", "1", null),
            ("alias_set", "challenger", "2", "1"),
            ("alias_set", "challenger", null, "2"),
            ("alias_set", "champion", null, "1"),
        ]);
        // Version 2's history shows the alias that was moved away from it.
        (await RegistryHistoryAsync(server, name, "2")).Select(e => (Str(e!["kind"]), e["from"]?.GetValue<string>(), e["to"]?.GetValue<string>()))
            .ShouldBe([("alias_set", "2", "1"), ("alias_set", null, "2")]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_alias_names_that_mlflow_refuses_or_reserves(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        var longest = new string('a', 255);

        (await SetAliasAsync(server, name, longest, "1")).ShouldBeOk();
        (await SetAliasAsync(server, name, "with-dash_and_underscore9", "1")).ShouldBeOk();
        var cases = new Dictionary<string, string>
        {
            ["latest"] = "'latest' alias name (case insensitive) is reserved.",
            ["LaTeSt"] = "'latest' alias name (case insensitive) is reserved.",
            ["v1"] = "Version alias name 'v1' is reserved.",
            ["V42"] = "Version alias name 'V42' is reserved.",
            ["a b"] = "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
            ["a.b"] = "Invalid alias name: 'a.b'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
            ["<script>"] = "Invalid alias name: '<script>'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
            [longest + "a"] = "'Registered model alias name' exceeds the maximum length of 255 characters",
            [""] = "Registered model alias name cannot be empty.",
        };
        foreach (var (alias, message) in cases)
        {
            foreach (var reply in new[]
            {
                await SetAliasAsync(server, name, alias, "1"),
                await GetByAliasAsync(server, name, alias),
                await server.PostAsync($"{Models}/alias", $$"""{"name": {{J(name)}}, "alias": {{J(alias)}}}""", "DELETE"),
            })
            {
                reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
                reply.Message.ShouldBe(message);
            }
        }
        (await GetModelAsync(server, name))["aliases"]!.AsArray().Count.ShouldBe(2);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Records_one_consistent_chain_when_clients_move_an_alias_at_once(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        for (var i = 0; i < 6; i++)
        {
            await VersionAsync(server, name);
        }

        var replies = await Task.WhenAll(Enumerable.Range(1, 6).SelectMany(v => new[] { v, v }).Select(v =>
            SetAliasAsync(server, name, "champion", v.ToString(System.Globalization.CultureInfo.InvariantCulture))));

        replies.ShouldAllBe(r => r.Status == HttpStatusCode.OK, string.Join("\n", replies.Select(r => r.Text)));
        var chain = (await RegistryHistoryAsync(server, name)).Reverse().ToList();
        chain[0]!["from"].ShouldBeNull();
        for (var i = 1; i < chain.Count; i++)
        {
            // Each move starts where the one before it ended, and no event records a non-move.
            Str(chain[i]!["from"]).ShouldBe(Str(chain[i - 1]!["to"]));
            Str(chain[i]!["from"]).ShouldNotBe(Str(chain[i]!["to"]));
        }
        Str((await GetByAliasAsync(server, name, "champion")).ShouldBeOk().Json!["model_version"]!["version"]).ShouldBe(Str(chain[^1]!["to"]));
    }

    // ---- History (/api/v1) ---------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_the_history_of_a_model_and_of_a_version_newest_first_in_pages(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);
        await VersionAsync(server, name);
        (await TransitionAsync(server, name, "1", "Staging")).ShouldBeOk();
        (await TransitionAsync(server, name, "2", "Staging")).ShouldBeOk();
        (await TransitionAsync(server, name, "1", "Production")).ShouldBeOk();
        (await SetAliasAsync(server, name, "champion", "1")).ShouldBeOk();

        var page1 = (await server.GetAsync($"{V1}/registered-models/{name}/history?max_results=3")).ShouldBeOk().Json!;
        var page2 = (await server.GetAsync($"{V1}/registered-models/{name}/history?max_results=3&page_token={Str(page1["next_page_token"])}"))
            .ShouldBeOk().Json!;
        var version1 = await RegistryHistoryAsync(server, name, "1");

        page1.ShouldHaveShape("""
            {"events": [{"id": "number", "kind": "string", "model_name": "string", "version": "number", "alias?": "string",
                         "from?": "string", "to?": "string", "actor": "string", "timestamp": "string", "timestamp_ms": "number"}],
             "next_page_token": "string"}
            """);
        var events = page1["events"]!.AsArray().Concat(page2["events"]!.AsArray()).ToList();
        page2["next_page_token"].ShouldBeNull();
        events.Select(e => (Str(e!["kind"]), e["version"]!.GetValue<int>(), e["from"]?.GetValue<string>(), e["to"]?.GetValue<string>())).ShouldBe(
        [
            ("alias_set", 1, null, "1"),
            ("stage_changed", 1, "Staging", "Production"),
            ("stage_changed", 2, "None", "Staging"),
            ("stage_changed", 1, "None", "Staging"),
        ]);
        events.Select(e => e!["id"]!.GetValue<long>()).ShouldBeInOrder(SortDirection.Descending);
        foreach (var e in events)
        {
            Str(e!["actor"]).ShouldBe("local");
            Str(e["model_name"]).ShouldBe(name);
            DateTimeOffset.Parse(Str(e["timestamp"]), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()
                .ShouldBe(e["timestamp_ms"]!.GetValue<long>());
        }
        version1.Select(e => Str(e!["kind"])).ShouldBe(["alias_set", "stage_changed", "stage_changed"]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_history_errors_as_problem_details(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        await VersionAsync(server, name);

        (await server.GetAsync($"{V1}/registered-models/{Name("missing")}/history")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{V1}/registered-models/{name}/versions/7/history")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{V1}/registered-models/{name}/versions/x/history")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{V1}/registered-models/{name}/history?max_results=0")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{V1}/registered-models/{name}/history?max_results=1001")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{V1}/registered-models/{name}/history?page_token=abc")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    // ---- Wire ----------------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Stores_markup_and_sql_in_names_descriptions_and_tags_as_data(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        // No '/' (a name never holds one): the closing tag is left out.
        var name = $"<script>alert('x') '; DROP TABLE registered_models; -- {Guid.NewGuid():N}";
        const string Description = "<img src=x onerror=alert(1)> \" ' \\ \u00e9\u4e2d";

        var created = (await server.PostAsync($"{Models}/create",
            $$"""{"name": {{J(name)}}, "description": {{J(Description)}}, "tags": [{"key": "note", "value": "<b>bold</b>"}]}""")).ShouldBeOk();
        await VersionAsync(server, name, $$""", "description": {{J(Description)}}""");

        created.Text.ShouldContain("<script>");
        var model = await GetModelAsync(server, name);
        Str(model["name"]).ShouldBe(name);
        Str(model["description"]).ShouldBe(Description);
        ValueOf(model["tags"], "note").ShouldBe("<b>bold</b>");
        Str((await GetVersionAsync(server, name, "1")).ShouldBeOk().Json!["model_version"]!["description"]).ShouldBe(Description);
        (await RegistryHistoryAsync(server, name)).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_malformed_json_and_values_of_the_wrong_type(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);

        (await server.PostAsync($"{Models}/create", """{"name": "x",""")).ShouldFail(HttpStatusCode.BadRequest, "BAD_REQUEST");
        (await server.PostAsync($"{Models}/create", "[1, 2]")).ShouldFail(HttpStatusCode.BadRequest, "BAD_REQUEST");
        (await server.PostAsync($"{Models}/create", """{"name": 12}""")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message!.ShouldContain("'name'");
        (await server.PostAsync($"{Models}/create", """{"name": "x", "tags": {"k": "v"}}""")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await TransitionAsync(server, name, "1", "Staging")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.PostAsync($"{Versions}/transition-stage", $$"""{"name": {{J(name)}}, "version": "1", "stage": "Staging", "archive_existing_versions": "yes"}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.PostAsync($"{Models}/create", "{\"name\": \"a\\u0000b\"}")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Serves_the_registry_rpcs_under_the_ajax_api_prefix_too(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        const string Ajax = "/ajax-api/2.0/mlflow";
        var name = Name("ajax");
        var (runId, source) = await RunSourceAsync(server);

        (await server.PostAsync($"{Ajax}/registered-models/create", $$"""{"name": {{J(name)}}}""")).ShouldBeOk();
        (await server.PostAsync($"{Ajax}/model-versions/create", $$"""{"name": {{J(name)}}, "source": {{J(source)}}, "run_id": {{J(runId)}}}""")).ShouldBeOk();
        (await server.PostAsync($"{Ajax}/registered-models/alias", $$"""{"name": {{J(name)}}, "alias": "a", "version": "1"}""")).ShouldBeOk();
        (await server.GetAsync($"{Ajax}/registered-models/get?name={name}")).ShouldBeOk();
        (await server.GetAsync($"{Ajax}/model-versions/get?name={name}&version=1")).ShouldBeOk();
        (await server.GetAsync($"{Ajax}/registered-models/alias?name={name}&alias=a")).ShouldBeOk();
        (await server.GetAsync($"{Ajax}/model-versions/get-download-uri?name={name}&version=1")).ShouldBeOk();
        (await server.PostAsync($"{Ajax}/registered-models/get-latest-versions", $$"""{"name": {{J(name)}}}""")).ShouldBeOk();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Lists_a_version_registered_from_a_logged_model_in_the_models_tag_with_its_run(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var modelId = await MakeModel.IdAsync(server, experimentId, $$""", "source_run_id": {{J(runId)}}""");
        var name = await ModelAsync(server);

        var version = (await CreateVersionAsync(server, name, $"models:/{modelId}", extra: $$""", "model_id": {{J(modelId)}}""")).ShouldBeOk().Json!;

        // The run comes from the logged model, as MLflow 3 answers it.
        Str(version["model_version"]!["run_id"]).ShouldBe(runId);
        Str(version["model_version"]!["source"]).ShouldBe($"models:/{modelId}");
        var logged = await MakeModel.GetAsync(server, modelId);
        ValueOf(logged["info"]!["tags"], "mlflow.modelVersions").ShouldBe($$"""[{"name": {{J(name)}}, "version": 1}]""");
        Str((await server.GetAsync($"{Versions}/get-download-uri?name={name}&version=1")).ShouldBeOk().Json!["artifact_uri"])
            .ShouldBe(Str(logged["info"]!["artifact_uri"]));
    }

    // ---- Sources (the exhaustive cases are ModelSourcesTests in Dashboard.Core.Tests) ------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_unsafe_sources_and_stores_nothing_of_them(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        var (runId, source) = await RunSourceAsync(server);
        var (otherRun, _) = await RunSourceAsync(server);
        var unsafeSources = new[]
        {
            "file:///etc/passwd",
            "/etc/passwd",
            $"{source}/%252e%252e/%252e%252e/{otherRun}/artifacts",
            $"{source}/../../{otherRun}/artifacts",
            $"runs:/{runId}/%2e%2e/%2e%2e/{otherRun}",
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1",
            "http://[::1]/x",
        };

        foreach (var unsafeSource in unsafeSources)
        {
            var plain = await CreateVersionAsync(server, name, unsafeSource, runId);
            // The prompt tag makes MLflow skip its source checks; here no tag changes them.
            var asPrompt = await CreateVersionAsync(server, name, unsafeSource, runId,
                """, "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]""");

            foreach (var reply in new[] { plain, asPrompt })
            {
                reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
                reply.Message!.ShouldContain("source");
                reply.Message!.ShouldNotContain("/tmp");
            }
        }
        var model = await GetModelAsync(server, name);
        model["latest_versions"].ShouldBeNull();
        // Nothing was numbered either: the next version is the first.
        Str((await VersionAsync(server, name))["version"]).ShouldBe("1");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Registers_a_source_only_inside_the_artifacts_of_the_run_or_model_it_names(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        var (runId, source) = await RunSourceAsync(server);
        var (otherRun, _) = await RunSourceAsync(server);

        var foreign = await CreateVersionAsync(server, name, source, otherRun);
        var unknownRun = await CreateVersionAsync(server, name, $"runs:/{new string('f', 32)}/model");

        foreign.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        unknownRun.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        Str((await CreateVersionAsync(server, name, $"runs:/{runId}/model")).ShouldBeOk().Json!["model_version"]!["run_id"]).ShouldBe(runId);
    }

    // ---- models:/ URIs (/api/v1) ---------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Resolves_model_uris_by_version_alias_stage_latest_and_logged_model(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var modelId = await MakeModel.IdAsync(server, experimentId, $$""", "source_run_id": {{J(runId)}}""");
        var loggedLocation = Str((await MakeModel.GetAsync(server, modelId))["info"]!["artifact_uri"]);
        var name = await ModelAsync(server);
        var (otherRun, otherSource) = await RunSourceAsync(server);
        (await CreateVersionAsync(server, name, $"models:/{modelId}", extra: $$""", "model_id": {{J(modelId)}}""")).ShouldBeOk();
        (await CreateVersionAsync(server, name, otherSource, otherRun)).ShouldBeOk();
        (await CreateVersionAsync(server, name, otherSource, otherRun)).ShouldBeOk();
        (await TransitionAsync(server, name, "1", "Production")).ShouldBeOk();
        (await SetAliasAsync(server, name, "champion", "2")).ShouldBeOk();
        (await server.PostAsync($"{Versions}/delete", $$"""{"name": {{J(name)}}, "version": "3"}""", "DELETE")).ShouldBeOk();

        async Task<JsonNode> Resolve(string uri) =>
            (await server.GetAsync($"{V1}/model-uri?uri={Uri.EscapeDataString(uri)}")).ShouldBeOk().Json!;

        var byNumber = await Resolve($"models:/{name}/1");
        byNumber.ShouldHaveShape("""
            {"uri": "string", "kind": "string", "name?": "string", "version?": "number", "model_id?": "string", "run_id?": "string",
             "storage_location": "string"}
            """);
        Str(byNumber["kind"]).ShouldBe("model_version");
        byNumber["version"]!.GetValue<int>().ShouldBe(1);
        Str(byNumber["model_id"]).ShouldBe(modelId);
        Str(byNumber["run_id"]).ShouldBe(runId);
        Str(byNumber["storage_location"]).ShouldBe(loggedLocation);
        var byAlias = await Resolve($"models:/{name}@champion");
        byAlias["version"]!.GetValue<int>().ShouldBe(2);
        Str(byAlias["storage_location"]).ShouldBe(otherSource);
        (await Resolve($"models:/{name}/Production"))["version"]!.GetValue<int>().ShouldBe(1);
        (await Resolve($"models:/{name}/production"))["version"]!.GetValue<int>().ShouldBe(1);
        // The deleted version 3 is not the latest.
        (await Resolve($"models:/{name}/latest"))["version"]!.GetValue<int>().ShouldBe(2);
        var logged = await Resolve($"models:/{modelId}");
        Str(logged["kind"]).ShouldBe("logged_model");
        logged["version"].ShouldBeNull();
        Str(logged["storage_location"]).ShouldBe(loggedLocation);

        (await server.GetAsync($"{V1}/model-uri?uri={Uri.EscapeDataString($"models:/{name}/3")}")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{V1}/model-uri?uri={Uri.EscapeDataString($"models:/{name}/Staging")}")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{V1}/model-uri?uri={Uri.EscapeDataString($"models:/{name}@nobody")}")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{V1}/model-uri?uri={Uri.EscapeDataString($"models:/{Name("missing")}/1")}")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{V1}/model-uri?uri={Uri.EscapeDataString($"runs:/{runId}/model")}")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{V1}/model-uri")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    // ---- Search (the grammar's cases are RegistrySearchServiceTests in Dashboard.Core.Tests) -----------------------

    [Theory, MemberData(nameof(Providers))]
    public async Task Searches_registered_models_with_a_filter_an_order_and_pages(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var prefix = Name("search");
        foreach (var i in new[] { 2, 0, 1 })
        {
            await ModelAsync(server, $"{prefix}-{i}", $$""", "tags": [{"key": "aux", "value": "{{(i == 1 ? "no" : "yes")}}"}], "description": "aux {{i}}" """);
        }
        await VersionAsync(server, $"{prefix}-0");
        (await SetAliasAsync(server, $"{prefix}-0", "champion", "1")).ShouldBeOk();
        var filter = Uri.EscapeDataString($"name LIKE '{prefix}-%'");

        var page1 = (await server.GetAsync($"{Models}/search?filter={filter}&max_results=2&order_by=name%20DESC")).ShouldBeOk().Json!;
        var page2 = (await server.GetAsync(
            $"{Models}/search?filter={filter}&max_results=2&order_by=name%20DESC&page_token={Uri.EscapeDataString(Str(page1["next_page_token"]))}")).ShouldBeOk().Json!;
        var tagged = (await server.GetAsync(
            $"{Models}/search?filter={Uri.EscapeDataString($"name LIKE '{prefix}-%' AND tags.aux = 'yes'")}")).ShouldBeOk().Json!;

        page1.ShouldHaveShape($$"""{"registered_models": [{{Shapes.RegisteredModel}}], "next_page_token?": "string"}""");
        page1["registered_models"]!.AsArray().Select(m => Str(m!["name"])).ShouldBe([$"{prefix}-2", $"{prefix}-1"]);
        page2["registered_models"]!.AsArray().Select(m => Str(m!["name"])).ShouldBe([$"{prefix}-0"]);
        page2["next_page_token"].ShouldBeNull();
        // A page's models come whole: description, tags, aliases and latest versions (without aliases, as in MLflow).
        var found = page2["registered_models"]![0]!;
        found.ToJsonString().ShouldBe((await GetModelAsync(server, $"{prefix}-0")).ToJsonString());
        Str(found["aliases"]![0]!["alias"]).ShouldBe("champion");
        found["latest_versions"]![0]!["aliases"].ShouldBeNull();
        tagged["registered_models"]!.AsArray().Select(m => Str(m!["name"])).ShouldBe([$"{prefix}-0", $"{prefix}-2"]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Searches_model_versions_with_a_filter_an_order_and_pages_and_never_finds_deleted_ones(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server);
        for (var i = 0; i < 4; i++)
        {
            await VersionAsync(server, name, i == 1 ? """, "tags": [{"key": "validation", "value": "approved"}]""" : "");
        }
        (await server.PostAsync($"{Versions}/delete", $$"""{"name": {{J(name)}}, "version": "3"}""", "DELETE")).ShouldBeOk();
        (await SetAliasAsync(server, name, "champion", "4")).ShouldBeOk();
        var byName = Uri.EscapeDataString($"name = '{name}'");

        var all = (await server.GetAsync($"{Versions}/search?filter={byName}&order_by=version_number%20ASC")).ShouldBeOk().Json!;
        var page1 = (await server.GetAsync($"{Versions}/search?filter={byName}&max_results=2&order_by=version_number%20DESC")).ShouldBeOk().Json!;
        var page2 = (await server.GetAsync(
            $"{Versions}/search?filter={byName}&max_results=2&order_by=version_number%20DESC&page_token={Uri.EscapeDataString(Str(page1["next_page_token"]))}"))
            .ShouldBeOk().Json!;
        var tagged = (await server.GetAsync(
            $"{Versions}/search?filter={Uri.EscapeDataString($"name = '{name}' AND tags.validation = 'approved'")}")).ShouldBeOk().Json!;

        all.ShouldHaveShape($$"""{"model_versions": [{{Shapes.ModelVersion}}], "next_page_token?": "string"}""");
        Numbers(all["model_versions"]).ShouldBe(["1", "2", "4"]);
        // As MLflow, a search answers versions without their aliases.
        all["model_versions"]!.AsArray().ShouldAllBe(v => v!["aliases"] == null);
        Numbers(page1["model_versions"]).ShouldBe(["4", "2"]);
        Numbers(page2["model_versions"]).ShouldBe(["1"]);
        Numbers(tagged["model_versions"]).ShouldBe(["2"]);
        ValueOf(tagged["model_versions"]![0]!["tags"], "validation").ShouldBe("approved");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_invalid_registry_searches_with_mlflows_messages(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        var tooMany = await server.GetAsync($"{Models}/search?max_results=1001");
        var badOrder = await server.GetAsync($"{Models}/search?order_by=owner%20ASC");
        var badKey = await server.GetAsync($"{Versions}/search?filter={Uri.EscapeDataString("metrics.acc > 1")}");
        var forged = await server.GetAsync($"{Versions}/search?page_token=eyJvZmZzZXQiOiAxfQ%3D%3D");

        foreach (var reply in new[] { tooMany, badOrder, badKey, forged })
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }
        tooMany.Message.ShouldBe("Invalid value for request parameter max_results. It must be at most 1000, but got value 1001");
        badOrder.Message.ShouldBe("Invalid order by key 'owner' specified. Valid keys are '{'name', 'timestamp'}'");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Treats_injection_strings_in_search_filters_as_data(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = await ModelAsync(server, $"o'brien; DROP TABLE registered_models; -- {Guid.NewGuid():N}");
        await VersionAsync(server, name);

        var exact = (await server.GetAsync($"{Models}/search?filter={Uri.EscapeDataString($"name = '{name.Replace("'", "''", StringComparison.Ordinal)}'")}"))
            .ShouldBeOk().Json!;
        var orTrue = (await server.GetAsync($"{Models}/search?filter={Uri.EscapeDataString("name = 'x' OR '1'='1'")}"));
        var comment = await server.GetAsync($"{Versions}/search?filter={Uri.EscapeDataString("name = 'x'; DELETE FROM model_versions; --'")}");
        var inValue = (await server.GetAsync($"{Versions}/search?filter={Uri.EscapeDataString("name = 'x''; DELETE FROM model_versions; --'")}"))
            .ShouldBeOk().Json!;
        // A backslash escapes nothing: the value ends at the second quote and the OR that follows is refused.
        var backslash = await server.GetAsync($"{Versions}/search?filter={Uri.EscapeDataString(@"run_id = '\' OR 1=1 --'")}");

        exact["registered_models"]!.AsArray().Select(m => Str(m!["name"])).ShouldBe([name]);
        orTrue.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        comment.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        inValue["model_versions"].ShouldBeNull();
        backslash.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        Str((await GetVersionAsync(server, name, "1")).ShouldBeOk().Json!["model_version"]!["name"]).ShouldBe(name);
    }
}
