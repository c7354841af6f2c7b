using System.Net;
using Dashboard.Tests.Support;

namespace Dashboard.Tests.Api;

public class SmokeTests
{
    [Fact]
    public async Task Answers_health_and_has_the_default_experiment()
    {
        await using var server = await DashboardServer.StartAsync();
        var health = await server.GetAsync("/health");
        health.Status.ShouldBe(HttpStatusCode.OK);
        health.Text.ShouldBe("OK");
        var reply = (await server.GetAsync("/api/2.0/mlflow/experiments/get?experiment_id=0")).ShouldBeOk();
        reply.Json!["experiment"]!["name"]!.GetValue<string>().ShouldBe("Default");
        reply.Json!["experiment"]!["artifact_location"]!.GetValue<string>().ShouldBe("mlflow-artifacts:/0");
    }
}
