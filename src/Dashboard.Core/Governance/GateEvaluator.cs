using System.Globalization;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Registry;
using Dashboard.Search;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Governance;

/// <summary>
/// Checks and evaluates the gates of a promotion policy (issue 7, item 3) for one model version, inside the caller's
/// unit of work so that a review sees the state it commits with. Metric and tag gates are MLflow filters translated to SQL
/// by the searches' own parsers and queries (<see cref="RunSearchService.Query"/>, <see cref="RegistrySearchService.ModelVersions"/>);
/// top-K and compare read the latest metrics of the versions' source runs. Each result says in words what it looked at.
/// </summary>
public static class GateEvaluator
{
    public const int MaxGates = 20;
    public const int MaxK = 100;
    public const int MaxNameLength = 100;

    /// <summary>Whether a gate applies to a target by its list alone: it lists no targets, or lists this one (PolicyView.GatesFor adds the protection rule).</summary>
    public static bool AppliesTo(GateSpec gate, string target) => gate.Targets.Count == 0 || gate.Targets.Contains(target, StringComparer.Ordinal);

    /// <summary>A gate's label: its name, else what it checks.</summary>
    public static string Label(GateSpec gate) => gate.Name is { Length: > 0 } name ? name : gate.Kind switch
    {
        GateKind.Metric or GateKind.Tag => gate.Expression ?? gate.Kind,
        GateKind.TopK => $"top {gate.K} by {gate.Metric}",
        GateKind.Compare => $"{gate.Metric} not worse than the current holder",
        _ => gate.Kind,
    };

    /// <summary>
    /// Validates the gates of a policy and answers them normalized (kind lower case, targets in canonical case, metric
    /// names trimmed), or throws INVALID_PARAMETER_VALUE naming the gate (1-based) and what is wrong.
    /// </summary>
    public static IReadOnlyList<GateSpec> Validate(IReadOnlyList<GateSpec>? gates)
    {
        var list = gates ?? [];
        if (list.Count > MaxGates)
        {
            throw MlflowException.InvalidParameter($"A policy has at most {MaxGates} gates; this one has {list.Count}.");
        }
        var result = new List<GateSpec>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var gate = list[i] ?? throw MlflowException.InvalidParameter($"Gate {i + 1} is null.");
            string Where() => $"Gate {i + 1} ({gate.Kind})";
            var kind = gate.Kind?.Trim().ToLowerInvariant() ?? "";
            if (!GateKind.All.Contains(kind))
            {
                throw MlflowException.InvalidParameter(
                    $"Gate {i + 1}: unknown kind '{gate.Kind}'. A gate is one of: {string.Join(", ", GateKind.All)}.");
            }
            gate = gate with { Kind = kind };
            if (gate.Name is { Length: > MaxNameLength })
            {
                throw MlflowException.InvalidParameter($"{Where()}: a name has at most {MaxNameLength} characters.");
            }
            switch (kind)
            {
                case GateKind.Metric:
                    ParseOrThrow(gate.Expression, SearchScope.Runs, Where(), "an expression over the run, e.g. metrics.val_accuracy >= 0.95");
                    gate = gate with { Metric = null, K = null, Margin = null };
                    break;
                case GateKind.Tag:
                    var filter = ParseOrThrow(gate.Expression, SearchScope.ModelVersions, Where(),
                        "an expression over the version's tags, e.g. tags.validation_status = 'passed'");
                    if (filter.Terms.Any(t => t.Entity != SearchEntity.Tag))
                    {
                        throw MlflowException.InvalidParameter(
                            $"{Where()}: a tag gate compares tags only (tags.<key> = 'value'); '{gate.Expression}' names other fields.");
                    }
                    gate = gate with { Metric = null, K = null, Margin = null };
                    break;
                case GateKind.TopK:
                    gate = gate with { Metric = MetricName(gate.Metric, Where()), Expression = null, Margin = null };
                    if (gate.K is not { } k || k < 1 || k > MaxK)
                    {
                        throw MlflowException.InvalidParameter($"{Where()}: k must be 1 to {MaxK}, got {gate.K?.ToString(CultureInfo.InvariantCulture) ?? "none"}.");
                    }
                    break;
                case GateKind.Compare:
                    gate = gate with { Metric = MetricName(gate.Metric, Where()), Expression = null, K = null };
                    var margin = gate.Margin ?? 0;
                    if (!double.IsFinite(margin) || margin < 0)
                    {
                        throw MlflowException.InvalidParameter($"{Where()}: margin must be a number of 0 or more, got {Number(margin)}.");
                    }
                    gate = gate with { Margin = margin };
                    break;
            }
            gate = gate with { Targets = [.. (gate.Targets ?? []).Select(t => Target(t, Where())).Distinct(StringComparer.Ordinal)] };
            result.Add(gate);
        }
        return result;
    }

    private static Filter ParseOrThrow(string? expression, SearchScope scope, string where, string expected)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            throw MlflowException.InvalidParameter($"{where}: expression is required: {expected}.");
        }
        if (!FilterParser.TryParse(expression, scope, out var filter, out var error))
        {
            throw MlflowException.InvalidParameter($"{where}: {error.Message}");
        }
        if (filter.Terms.Count == 0)
        {
            throw MlflowException.InvalidParameter($"{where}: expression is required: {expected}.");
        }
        return filter;
    }

    private static string MetricName(string? metric, string where)
    {
        var m = metric?.Trim();
        if (string.IsNullOrEmpty(m))
        {
            throw MlflowException.InvalidParameter($"{where}: metric is required (the name of a metric of the versions' runs).");
        }
        if (m.Length > DashboardDbContext.Lengths.EntityKey)
        {
            throw MlflowException.InvalidParameter($"{where}: a metric name has at most {DashboardDbContext.Lengths.EntityKey} characters.");
        }
        return m;
    }

    /// <summary>A gate's target: a stage (canonical case; not None) or a valid alias.</summary>
    private static string Target(string? target, string where)
    {
        if (ModelStage.Parse(target) is { } stage)
        {
            return stage != ModelStage.None
                ? stage
                : throw MlflowException.InvalidParameter($"{where}: None is not a target a version is promoted to.");
        }
        try
        {
            return RegistryValidation.Alias(target);
        }
        catch (MlflowException e)
        {
            throw MlflowException.InvalidParameter($"{where}: target '{target}' is neither a stage nor a valid alias: {e.Message}");
        }
    }

    // ---- Evaluation --------------------------------------------------------------------------------------------

    /// <summary>
    /// Evaluates the gates that apply to the target for version <paramref name="version"/> of model <paramref name="modelId"/>.
    /// A version without a source run fails the metric, top-K and compare gates (nothing to measure).
    /// </summary>
    public static async Task<IReadOnlyList<GateResult>> EvaluateAsync(DashboardDbContext db, IReadOnlyList<GateSpec> gates, long modelId,
        int version, string targetKind, string target, CancellationToken ct)
    {
        var applicable = gates.Where(g => AppliesTo(g, target)).ToList();
        if (applicable.Count == 0)
        {
            return [];
        }
        var runId = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == modelId && v.Version == version)
            .Select(v => v.RunId).FirstOrDefaultAsync(ct);
        var run = runId is null
            ? null
            : await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => new RunRef(r.Id, r.ExperimentId)).FirstOrDefaultAsync(ct);
        var results = new List<GateResult>(applicable.Count);
        foreach (var gate in applicable)
        {
            results.Add(gate.Kind switch
            {
                GateKind.Metric => await MetricAsync(db, gate, version, run, ct),
                GateKind.Tag => await TagAsync(db, gate, modelId, version, ct),
                GateKind.TopK => await TopKAsync(db, gate, modelId, version, run, ct),
                GateKind.Compare => await CompareAsync(db, gate, modelId, version, run, targetKind, target, ct),
                _ => new GateResult(gate, false, $"Unknown gate kind '{gate.Kind}'."),
            });
        }
        return results;
    }

    private sealed record RunRef(string Id, long ExperimentId);

    private static GateResult NoRun(GateSpec gate, int version) =>
        new(gate, false, $"Version {version} has no source run: there is no metric to check.");

    private static async Task<GateResult> MetricAsync(DashboardDbContext db, GateSpec gate, int version, RunRef? run, CancellationToken ct)
    {
        if (run is null)
        {
            return NoRun(gate, version);
        }
        if (!FilterParser.TryParse(gate.Expression, SearchScope.Runs, out var filter, out var error))
        {
            return new GateResult(gate, false, $"The expression does not parse: {error.Message}");
        }
        // The run search's own SQL over the run's experiment, narrowed to this run: the gate holds if the search finds it.
        var passed = await RunSearchService.Query(db, [run.ExperimentId], ViewType.All, filter, []).AnyAsync(r => r.Id == run.Id, ct);
        var words = new List<string>();
        foreach (var term in filter.Terms)
        {
            words.Add(await DescribeRunTermAsync(db, run.Id, term, ct));
        }
        return new GateResult(gate, passed, string.Join("; ", words));
    }

    private static async Task<string> DescribeRunTermAsync(DashboardDbContext db, string runId, FilterTerm term, CancellationToken ct)
    {
        switch (term.Entity)
        {
            case SearchEntity.Metric:
                var metric = await db.LatestMetrics.AsNoTracking().Where(m => m.RunId == runId && m.Key == term.Key)
                    .Select(m => new { m.Value, m.IsNaN }).FirstOrDefaultAsync(ct);
                if (metric is null)
                {
                    return $"{term.Key} not logged (wants {Symbol(term.Comparator)} {ValueText(term.Value)})";
                }
                var value = metric.IsNaN ? double.NaN : metric.Value;
                if (term.Value is NumberValue n)
                {
                    var holds = Holds(value, term.Comparator, n.Value);
                    return $"{term.Key} {Number(value)} {(holds ? Symbol(term.Comparator) : Symbol(Negate(term.Comparator)))} {n.Text}";
                }
                return $"{term.Key} {Number(value)} (wants {Symbol(term.Comparator)} {ValueText(term.Value)})";
            case SearchEntity.Param:
                var param = await db.Params.AsNoTracking().Where(p => p.RunId == runId && p.Key == term.Key).Select(p => p.Value).FirstOrDefaultAsync(ct);
                return $"params.{term.Key} is {(param is null ? "not logged" : $"'{param}'")} (wants {Symbol(term.Comparator)} {ValueText(term.Value)})";
            case SearchEntity.Tag:
                var tag = await db.RunTags.AsNoTracking().Where(t => t.RunId == runId && t.Key == term.Key).Select(t => t.Value).FirstOrDefaultAsync(ct);
                return $"tags.{term.Key} is {(tag is null ? "not set" : $"'{tag}'")} (wants {Symbol(term.Comparator)} {ValueText(term.Value)})";
            default:
                return $"{term.Entity.ToString().ToLowerInvariant()}.{term.Key} {Symbol(term.Comparator)} {ValueText(term.Value)}";
        }
    }

    private static async Task<GateResult> TagAsync(DashboardDbContext db, GateSpec gate, long modelId, int version, CancellationToken ct)
    {
        if (!FilterParser.TryParse(gate.Expression, SearchScope.ModelVersions, out var filter, out var error))
        {
            return new GateResult(gate, false, $"The expression does not parse: {error.Message}");
        }
        // The model-version search's own SQL, narrowed to this version.
        var passed = await RegistrySearchService.ModelVersions(db, filter, [])
            .AnyAsync(v => v.RegisteredModelId == modelId && v.Version == version, ct);
        var words = new List<string>();
        foreach (var term in filter.Terms)
        {
            var value = await db.ModelVersionTags.AsNoTracking()
                .Where(t => t.RegisteredModelId == modelId && t.Version == version && t.Key == term.Key).Select(t => t.Value).FirstOrDefaultAsync(ct);
            words.Add($"{term.Key} is {(value is null ? "not set" : $"'{value}'")} (wants {Symbol(term.Comparator)} {ValueText(term.Value)})");
        }
        return new GateResult(gate, passed, string.Join("; ", words));
    }

    /// <summary>The latest value of a metric of a run (NaN excluded), or null.</summary>
    private static Task<double?> LatestAsync(DashboardDbContext db, string runId, string metric, CancellationToken ct) =>
        db.LatestMetrics.AsNoTracking().Where(m => m.RunId == runId && m.Key == metric && !m.IsNaN).Select(m => (double?)m.Value).FirstOrDefaultAsync(ct);

    private static async Task<GateResult> TopKAsync(DashboardDbContext db, GateSpec gate, long modelId, int version, RunRef? run, CancellationToken ct)
    {
        if (run is null)
        {
            return NoRun(gate, version);
        }
        var metric = gate.Metric!;
        var k = gate.K ?? 1;
        if (await LatestAsync(db, run.Id, metric, ct) is not { } mine)
        {
            return new GateResult(gate, false, $"{metric} is not logged by version {version}'s run: it cannot be ranked.");
        }
        // One value per live version with a run that logged the metric; equal values share a rank.
        var values = from v in db.ModelVersions.AsNoTracking()
                     join m in db.LatestMetrics.AsNoTracking() on v.RunId equals m.RunId
                     where v.RegisteredModelId == modelId && !v.Deleted && m.Key == metric && !m.IsNaN
                     select new { v.Version, m.Value };
        var total = await values.CountAsync(ct);
        var better = gate.HigherIsBetter
            ? await values.CountAsync(x => x.Value > mine, ct)
            : await values.CountAsync(x => x.Value < mine, ct);
        var rank = better + 1;
        var passed = rank <= k;
        return new GateResult(gate, passed,
            $"{metric} {Number(mine)}: rank {rank} of {total} (top {k}{(gate.HigherIsBetter ? "" : ", lower is better")})");
    }

    private static async Task<GateResult> CompareAsync(DashboardDbContext db, GateSpec gate, long modelId, int version, RunRef? run,
        string targetKind, string target, CancellationToken ct)
    {
        var metric = gate.Metric!;
        var margin = gate.Margin ?? 0;
        var holder = await HolderAsync(db, modelId, version, targetKind, target, ct);
        var where = targetKind == PromotionTargetKind.Stage ? target : $"@{target}";
        if (holder is null)
        {
            return new GateResult(gate, true, $"No version holds {where} now: nothing to compare with.");
        }
        if (run is null)
        {
            return NoRun(gate, version);
        }
        if (await LatestAsync(db, run.Id, metric, ct) is not { } mine)
        {
            return new GateResult(gate, false, $"{metric} is not logged by version {version}'s run: it cannot be compared.");
        }
        var holderRun = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == modelId && v.Version == holder.Value)
            .Select(v => v.RunId).FirstOrDefaultAsync(ct);
        if (holderRun is null || await LatestAsync(db, holderRun, metric, ct) is not { } theirs)
        {
            return new GateResult(gate, true, $"{metric} {Number(mine)}; version {holder} ({where}) has no {metric} to compare with.");
        }
        // How much worse the candidate is (negative: better).
        var worse = gate.HigherIsBetter ? theirs - mine : mine - theirs;
        var passed = worse <= margin + 1e-12;
        var verdict = worse <= 0
            ? "not worse"
            : passed ? $"worse by {Number(worse)}, within the margin {Number(margin)}" : $"worse by {Number(worse)}, more than the margin {Number(margin)}";
        return new GateResult(gate, passed, $"{metric} {Number(mine)} vs {Number(theirs)} of version {holder} ({where}): {verdict}");
    }

    /// <summary>
    /// The version that holds the target now, other than <paramref name="version"/>: the latest live version in the
    /// stage, or the alias's version. Null when none.
    /// </summary>
    public static async Task<int?> HolderAsync(DashboardDbContext db, long modelId, int version, string targetKind, string target,
        CancellationToken ct)
    {
        if (targetKind == PromotionTargetKind.Stage)
        {
            return await db.ModelVersions.AsNoTracking()
                .Where(v => v.RegisteredModelId == modelId && !v.Deleted && v.CurrentStage == target && v.Version != version)
                .MaxAsync(v => (int?)v.Version, ct);
        }
        var aliased = await db.RegisteredModelAliases.AsNoTracking().Where(a => a.RegisteredModelId == modelId && a.Alias == target)
            .Select(a => (int?)a.Version).FirstOrDefaultAsync(ct);
        return aliased == version ? null : aliased;
    }

    // ---- Words -------------------------------------------------------------------------------------------------

    public static string Number(double value) => double.IsNaN(value) ? "NaN" : value.ToString("G6", CultureInfo.InvariantCulture);

    private static bool Holds(double value, Comparator comparator, double threshold) => comparator switch
    {
        Comparator.Equal => value == threshold,
        Comparator.NotEqual => value != threshold,
        Comparator.Less => value < threshold,
        Comparator.LessOrEqual => value <= threshold,
        Comparator.Greater => value > threshold,
        Comparator.GreaterOrEqual => value >= threshold,
        _ => false,
    };

    private static Comparator Negate(Comparator comparator) => comparator switch
    {
        Comparator.Equal => Comparator.NotEqual,
        Comparator.NotEqual => Comparator.Equal,
        Comparator.Less => Comparator.GreaterOrEqual,
        Comparator.LessOrEqual => Comparator.Greater,
        Comparator.Greater => Comparator.LessOrEqual,
        Comparator.GreaterOrEqual => Comparator.Less,
        _ => comparator,
    };

    private static string Symbol(Comparator comparator) => comparator switch
    {
        Comparator.Equal => "=",
        Comparator.NotEqual => "≠",
        Comparator.Less => "<",
        Comparator.LessOrEqual => "≤",
        Comparator.Greater => ">",
        Comparator.GreaterOrEqual => "≥",
        Comparator.Like => "LIKE",
        Comparator.ILike => "ILIKE",
        Comparator.In => "IN",
        Comparator.NotIn => "NOT IN",
        Comparator.IsNull => "IS NULL",
        Comparator.IsNotNull => "IS NOT NULL",
        _ => comparator.ToString(),
    };

    private static string ValueText(FilterValue? value) => value switch
    {
        NumberValue n => n.Text,
        StringValue s => $"'{s.Value}'",
        ListValue l => "(" + string.Join(", ", l.Values.Select(v => $"'{v}'")) + ")",
        _ => "",
    };
}
