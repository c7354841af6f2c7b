using Dashboard.Tests.Support;

namespace Dashboard.Tests.Api;

/// <summary>--seed-demo against the server's own configuration: it seeds once, says what it made, then refuses.</summary>
public class DemoCommandTests
{
    [Fact]
    public async Task Seeds_the_configured_database_and_store_once_then_refuses_and_a_bad_count_is_an_error()
    {
        await using var server = await DashboardServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;

        using var badCount = new StringWriter();
        (await DemoCommand.RunAsync(server.Services, ["--seed-demo-runs", "many"], badCount, ct)).ShouldBe(2);
        badCount.ToString().ShouldContain("--seed-demo-runs takes a number");

        using var first = new StringWriter();
        (await DemoCommand.RunAsync(server.Services, ["--seed-demo"], first, ct)).ShouldBe(0);
        first.ToString().ShouldContain("Seeded 6 experiments");

        // What the server now answers over MLflow's API: the demo's models, champion included.
        var champion = (await MakeRegistry.GetByAliasAsync(server, "mnist-simplecnn", "champion")).ShouldBeOk();
        champion.Json!["model_version"]!["current_stage"]!.GetValue<string>().ShouldBe("Production");
        Directory.EnumerateFiles(server.ArtifactRoot, "MLmodel", SearchOption.AllDirectories).Count().ShouldBe(18);

        using var second = new StringWriter();
        (await DemoCommand.RunAsync(server.Services, ["--seed-demo"], second, ct)).ShouldBe(1);
        second.ToString().ShouldContain("Not seeding: the database is not empty (6 experiments besides Default");
    }
}
