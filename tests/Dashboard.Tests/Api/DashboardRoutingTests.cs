using System.Net;
using Dashboard.Data;
using Dashboard.Tests.Support;

namespace Dashboard.Tests.Api;

/// <summary>The dashboard is mapped beside the APIs without changing what they, or unknown paths, answer.</summary>
public sealed class DashboardRoutingTests(SharedServers servers)
{
    [Theory]
    [InlineData("/")]
    [InlineData("/experiments")]
    [InlineData("/experiments/0")]
    [InlineData("/models")]
    public async Task Serves_the_dashboards_pages(string path)
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);

        var reply = await server.GetAsync(path);

        reply.Status.ShouldBe(HttpStatusCode.OK);
        reply.Text.ShouldContain("_framework/blazor.web.js");
    }

    [Fact]
    public async Task Serves_the_packages_static_files()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);

        (await server.GetAsync("/_content/MudBlazor/MudBlazor.min.css")).Status.ShouldBe(HttpStatusCode.OK);
        (await server.GetAsync("/_content/Plotly.Blazor/plotly-interop-7.2.0.js")).Status.ShouldBe(HttpStatusCode.OK);
        (await server.GetAsync("/dashboard.js")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task An_unknown_path_is_not_found_whatever_the_method(string method)
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);

        using var request = new HttpRequestMessage(new HttpMethod(method), "/tmp/escape-nothing-here") { Content = method == "GET" ? null : new StringContent("x") };
        (await server.SendAsync(request)).Status.ShouldBe(HttpStatusCode.NotFound);
        using var api = new HttpRequestMessage(new HttpMethod(method), "/api/2.0/mlflow/no-such-rpc") { Content = method == "GET" ? null : new StringContent("{}") };
        (await server.SendAsync(api)).ShouldFail(HttpStatusCode.NotFound, "ENDPOINT_NOT_FOUND");
    }
}
