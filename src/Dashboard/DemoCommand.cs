using System.Globalization;
using Dashboard.Artifacts;
using Dashboard.Data;
using Dashboard.Demo;
using Microsoft.EntityFrameworkCore;

namespace Dashboard;

/// <summary>
/// <c>--seed-demo [--seed-demo-runs N]</c>: fills an empty database with the demo (<see cref="DemoSeeder"/>), prints
/// what it made and exits without starting the server. The database and artifact store are the configured ones, so
/// the demo lands where the server will read it.
/// </summary>
public static class DemoCommand
{
    public const string Flag = "--seed-demo";
    public const string RunsFlag = "--seed-demo-runs";

    public static bool IsRequested(string[] args) =>
        args.Any(a => a == Flag || a == RunsFlag || a.StartsWith(RunsFlag + "=", StringComparison.Ordinal));

    /// <summary>Seeds and answers the process's exit code: 0 done, 1 refused (not empty), 2 a bad argument.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, CancellationToken ct)
    {
        if (!TryReadRuns(args, out var runs))
        {
            await output.WriteLineAsync($"{RunsFlag} takes a number of runs from 0 to 10,000,000, e.g. {RunsFlag} 100000.");
            return 2;
        }
        var store = services.GetRequiredService<IArtifactStore>();
        var seeder = new DemoSeeder(services.GetRequiredService<IDbContextFactory<DashboardDbContext>>(), store);
        await output.WriteLineAsync($"Seeding the demo into the configured database; artifacts in {store.Description}.");
        try
        {
            var summary = await seeder.SeedAsync(runs, DemoSeeder.DefaultSeed, new Progress<string>(line => output.WriteLine("  " + line)), ct);
            await output.WriteLineAsync($"Seeded {summary}.");
            await output.WriteLineAsync("Start the server (dotnet run --project src/Dashboard) and open http://127.0.0.1:5000.");
            return 0;
        }
        catch (DemoDatabaseNotEmptyException e)
        {
            await output.WriteLineAsync(e.Message);
            return 1;
        }
    }

    private static bool TryReadRuns(string[] args, out int runs)
    {
        runs = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string? text = args[i] == RunsFlag ? (i + 1 < args.Length ? args[i + 1] : null)
                : args[i].StartsWith(RunsFlag + "=", StringComparison.Ordinal) ? args[i][(RunsFlag.Length + 1)..]
                : null;
            if (args[i] == RunsFlag || args[i].StartsWith(RunsFlag + "=", StringComparison.Ordinal))
            {
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out runs) || runs > 10_000_000)
                {
                    return false;
                }
            }
        }
        return true;
    }
}
