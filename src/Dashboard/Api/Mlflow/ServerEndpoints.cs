using System.Reflection;

namespace Dashboard.Api.Mlflow;

/// <summary>The server's own routes that MLflow clients and load balancers call.</summary>
public static class ServerEndpoints
{
    public static readonly string Version =
        typeof(ServerEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static void MapServerEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => Results.Text("OK", "text/plain")).AllowAnonymous();
        app.MapGet("/version", () => Results.Text(Version, "text/plain"));
        // MLflow 3 clients ask which features the server has (workspaces); they need none here.
        foreach (var prefix in new[] { "/api/3.0/mlflow", "/ajax-api/3.0/mlflow" })
        {
            app.MapGet($"{prefix}/server-info", GetServerInfo);
        }
    }

    public static IResult GetServerInfo() =>
        Results.Json(new ServerInfoResponse("SqlStore", WorkspacesEnabled: false, TraceArchivalEnabled: false), MlflowJson.Options);
}

public sealed record ServerInfoResponse(string StoreType, bool WorkspacesEnabled, bool TraceArchivalEnabled);
