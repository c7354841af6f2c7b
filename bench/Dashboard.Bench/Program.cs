// bench/run.sh builds Release, starts what the bench needs and calls this with the paths. Run it alone as:
//   dotnet bench/Dashboard.Bench/bin/Release/net10.0/Dashboard.Bench.dll --server-dll src/Dashboard/bin/Release/net10.0/Dashboard.dll \
//     --work /tmp/bench --providers sqlite [--pg-admin "Host=...;Username=postgres"] [--quick] [--batches N] ...
using System.Globalization;
using Dashboard.Bench;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

// Whatever ends the bench, the servers it started end with it.
Console.CancelKeyPress += (_, _) => ServerProcess.KillAll();
AppDomain.CurrentDomain.ProcessExit += (_, _) => ServerProcess.KillAll();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => ServerProcess.KillAll());

var machine = MachineInfo.Read();
Directory.CreateDirectory(options.ResultsDir);
var failed = false;
var results = new List<ProviderResult>();
foreach (var provider in options.Providers)
{
    try
    {
        var result = await ProviderBench.RunAsync(provider, options);
        results.Add(result);
        var markdown = Report.Markdown(result, machine, options);
        var path = Path.Combine(options.ResultsDir,
            $"{result.Started.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}-{provider.ToString().ToLowerInvariant()}{options.ResultSuffix}.md");
        await File.WriteAllTextAsync(path, markdown);
        Console.WriteLine(markdown);
        Console.WriteLine($"Written to {path}");
        Console.WriteLine();
    }
    catch (Exception e)
    {
        failed = true;
        ServerProcess.KillAll();
        Console.Error.WriteLine($"{provider}: the bench failed: {e}");
    }
}
if (results.Count > 0)
{
    Console.WriteLine("## Summary");
    Console.WriteLine();
    Console.WriteLine(Report.Summary(results));
}
return failed ? 1 : 0;
