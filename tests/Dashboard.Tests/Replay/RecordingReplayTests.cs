using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;

namespace Dashboard.Tests.Replay;

/// <summary>
/// Replays every exchange of real MLflow sessions (the official client against the official server: tracking,
/// artifacts, model logging and the model registry) against a fresh Dashboard and expects the same answers. Where an
/// answer may differ, and why, is listed here and nowhere else.
/// </summary>
public class RecordingReplayTests
{
    public const string Mlflow2 = "real-mlflow-2.17.0.jsonl";
    public const string Mlflow3 = "real-mlflow-3.9.0rc0-nanstep1.jsonl";

    /// <summary>
    /// Fields this server writes that the recorded MLflow left out of an answer, because a later MLflow writes them: by
    /// path, the field and why. (Where the recording has them, they are compared.)
    /// </summary>
    private static readonly Dictionary<string, (string PathPart, string Field, string Reason)[]> NewerFields = new()
    {
        [Mlflow2] =
        [
            ("/registered-models/get-latest-versions", "aliases", "MLflow 3 answers each latest version's aliases (see the 3.9 recording); 2.17 did not"),
        ],
        [Mlflow3] = [],
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
            (322, "a filter's syntax error keeps the runs' parser's wording (ADR 0009, Search: Errors)"),
        ],
        [Mlflow3] =
        [
            (395, "a filter's syntax error keeps the runs' parser's wording (ADR 0009, Search: Errors)"),
        ],
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
        var replayed = 0;

        foreach (var exchange in Recording.Read(recording))
        {
            replayed++;
            var compareMessage = !MessageDeviations[recording].Any(d => d.Seq == exchange.Seq);
            var newerFields = NewerFields[recording].Where(f => exchange.Path.Contains(f.PathPart, StringComparison.Ordinal))
                .Select(f => f.Field).ToHashSet();
            foreach (var diff in await replayer.StepAsync(exchange, compareMessage, newerFields))
            {
                failures.Add($"{exchange.Describe}: {diff}");
            }
        }

        output?.WriteLine($"{recording} on {provider}: {replayed} exchanges replayed.");
        replayed.ShouldBeGreaterThan(300);
        failures.ShouldBeEmpty(string.Join(Environment.NewLine, failures));
    }
}
