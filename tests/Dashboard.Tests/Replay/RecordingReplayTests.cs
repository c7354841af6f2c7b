using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;

namespace Dashboard.Tests.Replay;

/// <summary>
/// Replays the tracking exchanges of real MLflow sessions (the official client against the official server) against
/// a fresh Dashboard and expects the same answers. What is not replayed, and why, is listed here and nowhere else.
/// </summary>
public class RecordingReplayTests
{
    public const string Mlflow2 = "real-mlflow-2.17.0.jsonl";
    public const string Mlflow3 = "real-mlflow-3.9.0rc0-nanstep1.jsonl";

    /// <summary>RPCs that other issues bring (the model registry): their exchanges are skipped.</summary>
    private static readonly (string PathPart, string Reason)[] OutOfScope =
    [
        ("/registered-models", "model registry: the registry issue"),
        ("/model-versions", "model registry: the registry issue"),
    ];

    /// <summary>
    /// Answers that show a tag written by a skipped RPC: compared without that tag. MLflow's model-versions/create
    /// with a model_id lists the new version in the logged model's mlflow.modelVersions tag (#124, #192); the client
    /// rewrites the tag itself right after (#127, #195), so the later answers compare it in full.
    /// </summary>
    private static readonly Dictionary<string, (int Seq, string Tag)[]> TagsOfSkippedRpcs = new()
    {
        [Mlflow2] = [],
        [Mlflow3] = [(125, "mlflow.modelVersions"), (126, "mlflow.modelVersions"), (193, "mlflow.modelVersions"), (194, "mlflow.modelVersions")],
    };

    /// <summary>
    /// Error messages that differ on purpose (the status and error code are still compared).
    /// </summary>
    private static readonly Dictionary<string, (int Seq, string Reason)[]> MessageDeviations = new()
    {
        [Mlflow2] =
        [
            (292, "MLflow prints the comparators as a Python set, whose order varies per process; this server uses 3.9's order"),
            (321, "MLflow 2.17's key charset message predates ':' in keys; this server writes MLflow 3's"),
        ],
        [Mlflow3] = [],
    };

    public static TheoryData<DatabaseProvider, string> Sessions
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string>();
            foreach (var provider in TestDatabase.Providers)
            {
                data.Add(provider, Mlflow2);
                data.Add(provider, Mlflow3);
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(Sessions))]
    public async Task Answers_a_recorded_mlflow_session_as_the_reference_server_did(DatabaseProvider provider, string recording)
    {
        await using var server = await DashboardServer.StartAsync(provider);
        var replayer = new Replayer(server, Recording.ListedFileSizes(recording));
        var output = TestContext.Current.TestOutputHelper;
        var failures = new List<string>();
        int replayed = 0, skipped = 0;

        foreach (var exchange in Recording.Read(recording))
        {
            if (SkipReason(exchange) is { } reason)
            {
                skipped++;
                output?.WriteLine($"skipped {exchange.Describe}: {reason}");
                continue;
            }
            replayed++;
            var compareMessage = !MessageDeviations[recording].Any(d => d.Seq == exchange.Seq);
            var ignoredTags = TagsOfSkippedRpcs[recording].Where(t => t.Seq == exchange.Seq).Select(t => t.Tag).ToHashSet();
            foreach (var diff in await replayer.StepAsync(exchange, compareMessage, ignoredTags))
            {
                failures.Add($"{exchange.Describe}: {diff}");
            }
        }

        output?.WriteLine($"{recording} on {provider}: {replayed} exchanges replayed, {skipped} skipped.");
        replayed.ShouldBeGreaterThan(100);
        failures.ShouldBeEmpty(string.Join(Environment.NewLine, failures));
    }

    private static string? SkipReason(Exchange exchange)
    {
        foreach (var (part, reason) in OutOfScope)
        {
            if (exchange.Path.Contains(part, StringComparison.Ordinal))
            {
                return reason;
            }
        }
        return null;
    }
}
