using Dashboard;
using Dashboard.Api.Mlflow;
using Dashboard.Api.V1;
using Dashboard.Artifacts;
using Dashboard.Auth;
using Dashboard.Components;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.ModelCards;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Tracking;
using Dashboard.Workers;
using Microsoft.EntityFrameworkCore;

var builder = WebApplication.CreateBuilder(args);

// Loopback unless told otherwise (--urls, Urls, ASPNETCORE_URLS).
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5000");
}
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MlflowRequest.MaxBodyBytes + 1024);

var database = DashboardConfiguration.ReadDatabase(builder.Configuration);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddDashboardDatabase(database);
builder.Services.AddSingleton<ExperimentService>();
builder.Services.AddSingleton<RunService>();
builder.Services.AddSingleton<MetricService>();
builder.Services.AddSingleton<RunSearchService>();
builder.Services.AddSingleton<ExperimentSearchService>();
builder.Services.AddSingleton<LoggedModelService>();
builder.Services.AddSingleton<LoggedModelSearchService>();
builder.Services.AddSingleton<ModelSourceResolver>();
builder.Services.AddSingleton<RegistrySearchService>();
builder.Services.AddSingleton<RegistryService>();
// Governance (issue 7): promotion requests, policies and gates.
builder.Services.AddSingleton<PromotionService>();
builder.Services.AddSingleton<AuditService>();
builder.Services.AddSingleton<ExperimentListService>();
builder.Services.AddSingleton<RunTableService>();
// Made now, so that a wrong root or S3 setting stops the start; registered through a factory so that the container
// disposes it (the S3 store holds an HTTP client).
var artifactStore = ArtifactStores.Create(DashboardConfiguration.ReadArtifacts(builder.Configuration));
builder.Services.AddSingleton<IArtifactStore>(_ => artifactStore);
builder.Services.AddSingleton<ModelCardService>();
// The run page (issue 5, items 4 and 7): chart series, artifact previews, and the signal that a run changed.
builder.Services.AddSingleton<RunChanges>();
builder.Services.AddSingleton<MetricSeriesService>();
builder.Services.AddSingleton<RunArtifacts>();
builder.Services.AddV1Api();
var auth = builder.Services.AddDashboardAuth(builder.Configuration);
builder.Services.AddDashboardHardening(builder.Configuration);
builder.Services.AddSecretBlocking(builder.Configuration);
builder.Services.AddDashboardPermissions();
builder.Services.AddHostedService<DatabaseMaintenanceWorker>();
builder.Services.AddHostedService<PromotionExpiryWorker>();
builder.Services.AddWebhooks(builder.Configuration);
builder.Services.AddDashboardUi();
// Serves the packages' files (_content/MudBlazor/...) in every environment, not only Development; harmless once published.
builder.WebHost.UseStaticWebAssets();

var app = builder.Build();

// Local mode is the local Admin for every request: never on an address other machines reach (docs/operations.md).
if (LocalModeGuard.Refusal(app.Configuration, auth) is { } refusal)
{
    await Console.Error.WriteLineAsync(refusal);
    Environment.ExitCode = LocalModeGuard.ExitCode;
    return;
}
LocalModeGuard.StopIfExposed(app, auth);

await DashboardDatabase.InitializeAsync(app.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>(), database,
    app.Services.GetRequiredService<TimeProvider>(), app.Lifetime.ApplicationStopping);

// --seed-demo fills an empty database with the demo and exits; the server does not start.
if (DemoCommand.IsRequested(args))
{
    Environment.ExitCode = await DemoCommand.RunAsync(app.Services, args, Console.Out, app.Lifetime.ApplicationStopping);
    return;
}

app.UseMlflowErrors();
app.UseDashboardHardening();
app.UseDashboardAuth();
app.UseSecretActor();
app.UseAntiforgery();
app.MapMlflowApi();
app.MapV1Api();
app.MapDashboardUi();

app.Run();

/// <summary>Visible to the test host.</summary>
public partial class Program;
