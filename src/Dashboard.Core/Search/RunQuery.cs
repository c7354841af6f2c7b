using System.Linq.Expressions;
using System.Text.Json;
using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>Where a page starts: the global offset, and for a search read in parts, the part and the offset in it.</summary>
internal readonly record struct PagePosition(long Offset, int? Part = null, long PartOffset = 0);

/// <summary>A run with the value of the first order term, so that the database can walk that value's index.</summary>
internal sealed class Ranked<TValue>
{
    public Run Run { get; init; } = null!;

    public TValue Value { get; init; } = default!;
}

/// <summary>
/// Builds the SQL of one runs/search and picks its shape, from capped counts and a small sample:
/// <list type="bullet">
/// <item><b>Sort a small set</b>: when the experiment has few runs, or one filter term matches few rows (counted
/// through its covering index, capped at <see cref="DefaultSmallSet"/>), the query starts from those runs, checks the
/// other terms, and sorts.</item>
/// <item><b>Walk</b>: otherwise the query walks an index in the requested order (the runs index for start_time,
/// the metric's (key, is_nan, value) index, the param or tag (key, value) index) and checks each run's filters as it
/// goes, stopping at the page size. An order on a metric, param or tag is read in parts: runs with a value, then
/// (metrics) runs whose value is NaN, then runs without one. That is MLflow's order, and each part follows an index;
/// the page token remembers the part.</item>
/// <item><b>Sort from the smallest term</b>: walking pays only when matches are dense along the order. The matches
/// among the first <see cref="Sample"/> entries of the walk estimate how far it must go; a sparse search (terms that
/// each match many runs but together few, or none near the head of the order), or an order no index provides, is
/// sorted starting from its smallest term.</item>
/// </list>
/// On SQLite, materializing a large set of run ids or looking up a sort key for every run of a large experiment
/// costs ten times more than these shapes (measured on 100,000 runs); PostgreSQL and SQL Server plan each shape on
/// their own statistics.
/// </summary>
internal sealed class RunQuery(DashboardDbContext db, IReadOnlyList<long> experimentIds, ViewType viewType,
    Filter filter, IReadOnlyList<OrderTerm> order, int smallSet = RunQuery.DefaultSmallSet, int walkBudget = RunQuery.DefaultWalkBudget)
{
    /// <summary>Up to this many candidate runs, sorting them beats walking an index; measured on 100,000 runs.</summary>
    internal const int DefaultSmallSet = 2500;

    /// <summary>How many entries at the head of the walk are sampled to estimate how far the walk must go.</summary>
    private const int Sample = 500;

    /// <summary>The longest walk (index entries, each a run lookup and its checks) worth taking over sorting.</summary>
    internal const int DefaultWalkBudget = 20_000;

    /// <summary>The cap of the counts that pick the smallest term when a sparse search is sorted.</summary>
    private const int LargeCount = 200_000;

    private readonly DatabaseProvider _provider = db.Provider;

    /// <summary>The runs of one page, and where the next page starts.</summary>
    public async Task<(List<Run> Runs, PagePosition Next)> PageAsync(PagePosition position, int size, CancellationToken ct)
    {
        var driver = await SmallDriverAsync(ct);
        if (driver is null)
        {
            if (await WalkAsync(position, size, ct) is { } walked)
            {
                return walked;
            }
            driver = await SmallestTermAsync(ct);
        }
        var runs = await Sorted(Scoped(), driver.Value).Skip((int)position.Offset).Take(size).AsNoTracking().ToListAsync(ct);
        return (runs, new PagePosition(position.Offset + runs.Count));
    }

    /// <summary>Every matching run in order, as one query: for callers that page or count themselves.</summary>
    public IQueryable<Run> All() => Sorted(Scoped(), driver: -1);

    /// <summary>Every matching run in no order: for grouping, where an ORDER BY would only cost a sort.</summary>
    public IQueryable<Run> Matching() => Filtered();

    /// <summary>
    /// The number of matching runs. Checking every term per run costs two index lookups a run per term; starting from the
    /// rows of the term that matches fewest (the same choice as a sparse sort) and checking the others per run read a
    /// quarter as much on 100,000 runs (SQLite: 730 ms against 205 ms for a metric and a param term, cold cache). The
    /// experiment's own runs are the start when no term matches fewer.
    /// </summary>
    public async Task<long> CountAsync(CancellationToken ct)
    {
        var driver = -1;
        if (filter.Terms.Any(t => t.Entity != SearchEntity.Attribute))
        {
            driver = await SmallestTermAsync(ct);
            var smallest = await SizeAsync(RunIdsOf(filter.Terms[driver]), LargeCount, ct);
            if (smallest >= await SizeAsync(Scoped(attributes: false), LargeCount, ct))
            {
                driver = -1;
            }
        }
        return await Sorted(Scoped(), driver, sort: false).LongCountAsync(ct);
    }

    /// <summary>Every query this search may run, so that tests can translate them for a provider without a server.</summary>
    internal IEnumerable<IQueryable> Shapes()
    {
        yield return Scoped(attributes: false).Take(smallSet + 1);
        yield return WalkSample();
        yield return All();
        for (var i = 0; i < filter.Terms.Count; i++)
        {
            if (filter.Terms[i].Entity != SearchEntity.Attribute)
            {
                yield return RunIdsOf(filter.Terms[i]).Take(smallSet + 1);
                yield return Sorted(Scoped(), i);
            }
        }
        yield return Order(Filtered(), r => r, order);
        if (order.Count > 0 && order[0].Entity != SearchEntity.Attribute)
        {
            foreach (var part in Parts())
            {
                yield return part.Skip(1).Take(2);
            }
        }
    }

    /// <summary>
    /// On PostgreSQL, plans the statements of a search without parallel workers until the returned transaction ends
    /// (SET LOCAL; null elsewhere). A walk stops after a few hundred index entries, but the planner, which expects it
    /// to read further, starts two workers for it: query (a) of bench/ (100,000 runs) took 25-30 ms with them and
    /// 8-10 ms without. Sorting 20,000 candidates was no faster with workers (300-340 ms against 310-400), and with
    /// its LEFT JOINs PostgreSQL chose a worse plan for them (0.8-1.2 s against 0.14-0.18 s); a server answering many
    /// searches has no idle cores to lend them anyway.
    /// </summary>
    internal static async Task<IAsyncDisposable?> WithoutParallelWorkersAsync(DashboardDbContext db, CancellationToken ct)
    {
        if (db.Provider != DatabaseProvider.PostgreSql)
        {
            return null;
        }
        var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlRawAsync("SET LOCAL max_parallel_workers_per_gather = 0", ct);
        return transaction;
    }

    // ---- sizes

    /// <summary>
    /// How many rows a query yields, up to <paramref name="cap"/>, counted. On PostgreSQL the planner's estimate
    /// (EXPLAIN, nothing executed) answers first when it reaches the cap: counting under LIMIT makes PostgreSQL choose
    /// fast-start scans that cost 5-20 ms a probe when the rows are many (100,000 runs). A smaller estimate is
    /// checked by counting, because the estimate of a key and a value together can be ten times too small: it
    /// multiplies their selectivities as if they were independent (params.optimizer = 'adam': 2,600 estimated,
    /// 25,000 real), and sorting 25,000 candidates taken for a small set costs 200-300 ms.
    /// </summary>
    private async Task<long> CountAsync<T>(IQueryable<T> rows, int cap, CancellationToken ct)
    {
        if (_provider == DatabaseProvider.PostgreSql && await EstimateAsync(rows, ct) >= cap)
        {
            return cap;
        }
        return await rows.Take(cap).LongCountAsync(ct);
    }

    /// <summary>How many rows a query yields, up to <paramref name="cap"/>, to choose the term a sort starts from:
    /// PostgreSQL's estimate, counted elsewhere.</summary>
    private async Task<long> SizeAsync<T>(IQueryable<T> rows, int cap, CancellationToken ct) =>
        _provider == DatabaseProvider.PostgreSql
            ? Math.Min(cap, await EstimateAsync(rows, ct))
            : await rows.Take(cap).LongCountAsync(ct);

    private async Task<long> EstimateAsync(IQueryable query, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        await using var command = query.CreateDbCommand();
        command.CommandText = "EXPLAIN (FORMAT JSON) " + command.CommandText;
        var plan = await command.ExecuteScalarAsync(ct) as string ?? "[]";
        using var json = JsonDocument.Parse(plan);
        return json.RootElement.EnumerateArray().Select(e => e.GetProperty("Plan").GetProperty("Plan Rows").GetDouble())
            .Select(rows => (long)Math.Ceiling(rows)).FirstOrDefault();
    }

    // ---- the small shape

    /// <summary>
    /// What makes the candidate set small, if anything: -1 when the experiment itself is, the index of a term that
    /// matches few rows, or null. The probes read at most <see cref="DefaultSmallSet"/>+1 index entries each.
    /// </summary>
    private async Task<int?> SmallDriverAsync(CancellationToken ct)
    {
        if (await CountAsync(Scoped(attributes: false), smallSet + 1, ct) <= smallSet)
        {
            return -1;
        }
        int? best = null;
        var bestCount = long.MaxValue;
        for (var i = 0; i < filter.Terms.Count; i++)
        {
            var term = filter.Terms[i];
            long? count = term switch
            {
                { Entity: SearchEntity.Attribute, Key: SearchVocabulary.RunIdAttribute, Comparator: Comparator.Equal } => 1,
                { Entity: SearchEntity.Attribute, Key: SearchVocabulary.RunIdAttribute, Comparator: Comparator.In, Value: ListValue list }
                    => list.Values.Count,
                { Entity: SearchEntity.Attribute } => null,
                _ => await CountAsync(RunIdsOf(term), smallSet + 1, ct),
            };
            if (count <= smallSet && count < bestCount)
            {
                (best, bestCount) = (i, count.Value);
            }
        }
        return best;
    }

    /// <summary>The term with the fewest matching rows (-1 without metric, param, tag or dataset terms: sort the
    /// experiment's runs that pass the attribute terms).</summary>
    private async Task<int> SmallestTermAsync(CancellationToken ct)
    {
        var best = -1;
        var bestCount = long.MaxValue;
        for (var i = 0; i < filter.Terms.Count; i++)
        {
            if (filter.Terms[i].Entity == SearchEntity.Attribute)
            {
                continue;
            }
            var count = await SizeAsync(RunIdsOf(filter.Terms[i]), LargeCount, ct);
            if (count < bestCount)
            {
                (best, bestCount) = (i, count);
            }
        }
        return best;
    }

    /// <summary>
    /// The page read by walking the order's index, or null when sorting pays better: when no index provides the order
    /// (attributes other than start_time; params and tags on PostgreSQL, whose values are hashed, and on SQL Server,
    /// where they are not indexed), or when matches are sparse along it. The walk is taken when <paramref name="size"/>
    /// matches after the offset lie within <see cref="DefaultWalkBudget"/> entries, judged from the matches among the
    /// first <see cref="Sample"/> entries; counting them stops as soon as there are enough, which in a dense search
    /// is after a few entries.
    /// </summary>
    private async Task<(List<Run> Runs, PagePosition Next)?> WalkAsync(PagePosition position, int size, CancellationToken ct)
    {
        var walkable = order.Count == 0 || order[0] switch
        {
            { Entity: SearchEntity.Attribute, Key: SearchVocabulary.StartTimeAttribute } => true,
            { Entity: SearchEntity.Attribute } => false,
            { Entity: SearchEntity.Metric } => true,
            _ => _provider == DatabaseProvider.Sqlite,
        };
        if (!walkable)
        {
            return null;
        }
        if (filter.Terms.Count > 0 && walkBudget != int.MaxValue)
        {
            // Counted on every provider: a planner's estimate (PostgreSQL's EXPLAIN) multiplies the selectivities of
            // a key and a value as if they were independent (params.optimizer = 'adam': 2,600 estimated, 25,000 real),
            // and cannot see that the filter and the order are correlated (metrics.val_acc < 0.6 ordered by val_acc
            // DESC matches a fifth of the runs, none at the head of the walk, which read 80,000 entries: 0.7-1.1 s).
            var needed = position.Offset + size;
            var enough = walkBudget <= 0 ? long.MaxValue : (needed * Sample + walkBudget - 1) / walkBudget;
            if (enough > Sample || await WalkSample().Take((int)enough).CountAsync(ct) < enough)
            {
                return null;
            }
        }
        if (order.Count == 0 || order[0].Entity == SearchEntity.Attribute)
        {
            var runs = await Order(Filtered(), r => r, order).Skip((int)position.Offset).Take(size).AsNoTracking().ToListAsync(ct);
            return (runs, new PagePosition(position.Offset + runs.Count));
        }
        return await PartsPageAsync(position, size, ct);
    }

    /// <summary>The matching runs among the first <see cref="Sample"/> entries of the walk.</summary>
    private IQueryable<Run> WalkSample()
    {
        IQueryable<string> head;
        if (order.Count == 0 || order[0].Entity == SearchEntity.Attribute)
        {
            head = Order(Scoped(attributes: false), r => r, order).Take(Sample).Select(r => r.Id);
        }
        else
        {
            var (key, ascending) = (order[0].Key, order[0].Ascending);
            switch (order[0].Entity)
            {
                case SearchEntity.Metric:
                    var real = false;
                    var values = MetricKey(key).Where(m => m.IsNaN == real);
                    head = (ascending ? values.OrderBy(m => m.Value) : values.OrderByDescending(m => m.Value)).Take(Sample).Select(m => m.RunId);
                    break;
                case SearchEntity.Param:
                    var @params = ParamKey(key);
                    head = (ascending ? @params.OrderBy(p => p.Value) : @params.OrderByDescending(p => p.Value)).Take(Sample).Select(p => p.RunId);
                    break;
                default:
                    var tags = TagKey(key);
                    head = (ascending ? tags.OrderBy(t => t.Value) : tags.OrderByDescending(t => t.Value)).Take(Sample).Select(t => t.RunId);
                    break;
            }
        }
        return Filtered().Where(r => head.Contains(r.Id));
    }

    /// <summary>All terms, the driving one as IN (the database starts from its few run ids), the others as EXISTS,
    /// and the whole order with explicit ranks.</summary>
    private IQueryable<Run> Sorted(IQueryable<Run> runs, int driver, bool sort = true)
    {
        for (var i = 0; i < filter.Terms.Count; i++)
        {
            var term = filter.Terms[i];
            if (term.Entity != SearchEntity.Attribute)
            {
                runs = runs.Where(i == driver ? In(term) : Exists(term));
            }
        }
        return sort ? SortAll(runs) : runs;
    }

    // ---- the walking shape

    /// <summary>Scoped runs with every metric, param, tag and dataset term checked per run (EXISTS on the run's keys).</summary>
    private IQueryable<Run> Filtered()
    {
        var runs = Scoped();
        foreach (var term in filter.Terms)
        {
            if (term.Entity != SearchEntity.Attribute)
            {
                runs = runs.Where(Exists(term));
            }
        }
        return runs;
    }

    private async Task<(List<Run> Runs, PagePosition Next)> PartsPageAsync(PagePosition position, int size, CancellationToken ct)
    {
        var parts = Parts();
        int part;
        long partOffset;
        if (position.Part is { } p)
        {
            (part, partOffset) = (p, position.PartOffset);
        }
        else if (position.Offset == 0)
        {
            (part, partOffset) = (0, 0);
        }
        else
        {
            // A token from a page that was sorted (the shape depends on the data and the page): count to find the part.
            (part, partOffset) = (0, position.Offset);
            while (part < parts.Count)
            {
                var count = await parts[part].LongCountAsync(ct);
                if (partOffset < count)
                {
                    break;
                }
                partOffset -= count;
                part++;
            }
        }
        var runs = new List<Run>(size);
        while (part < parts.Count && partOffset <= int.MaxValue)
        {
            var got = await parts[part].Skip((int)partOffset).Take(size - runs.Count).AsNoTracking().ToListAsync(ct);
            runs.AddRange(got);
            partOffset += got.Count;
            if (runs.Count == size)
            {
                break;
            }
            part++;
            partOffset = 0;
        }
        return (runs, new PagePosition(position.Offset + runs.Count, part, partOffset));
    }

    /// <summary>The first order term splits the runs: with a value (walked in the value's index order), with NaN
    /// (metrics), without a value; each part is ordered by the remaining terms.</summary>
    private List<IQueryable<Run>> Parts()
    {
        var first = order[0];
        var rest = order.Skip(1).ToList();
        var filtered = Filtered();
        var key = first.Key;
        switch (first.Entity)
        {
            case SearchEntity.Metric:
                var real = false;
                var nan = true;
                var values = MetricKey(key).Where(m => m.IsNaN == real);
                var nans = MetricKey(key).Where(m => m.IsNaN == nan);
                var allMetrics = MetricKey(key);
                return
                [
                    ByValue(from m in values from r in filtered where r.Id == m.RunId select new Ranked<double> { Run = r, Value = m.Value },
                        first.Ascending, rest),
                    Order(from m in nans from r in filtered where r.Id == m.RunId select r, r => r, rest),
                    Order(filtered.Where(r => !allMetrics.Any(m => m.RunId == r.Id)), r => r, rest),
                ];
            case SearchEntity.Param:
                var @params = ParamKey(key);
                return
                [
                    ByValue(from p in @params from r in filtered where r.Id == p.RunId select new Ranked<string> { Run = r, Value = p.Value },
                        first.Ascending, rest),
                    Order(filtered.Where(r => !@params.Any(p => p.RunId == r.Id)), r => r, rest),
                ];
            default:
                var tags = TagKey(key);
                return
                [
                    ByValue(from t in tags from r in filtered where r.Id == t.RunId select new Ranked<string> { Run = r, Value = t.Value },
                        first.Ascending, rest),
                    Order(filtered.Where(r => !tags.Any(t => t.RunId == r.Id)), r => r, rest),
                ];
        }
    }

    private IQueryable<Run> ByValue<TValue>(IQueryable<Ranked<TValue>> ranked, bool ascending, IReadOnlyList<OrderTerm> rest)
    {
        var byValue = ascending ? ranked.OrderBy(x => x.Value) : ranked.OrderByDescending(x => x.Value);
        return Order(ranked, x => x.Run, rest, byValue).Select(x => x.Run);
    }

    // ---- filters

    /// <summary>Runs of the experiments in the view, with the attribute terms (columns of runs) applied.</summary>
    private IQueryable<Run> Scoped(bool attributes = true)
    {
        IQueryable<Run> runs = db.Runs;
        if (experimentIds.Count == 1)
        {
            // An equality rather than IN (x) lets every provider walk the (experiment, stage, start_time) index in order.
            var id = experimentIds[0];
            runs = runs.Where(r => r.ExperimentId == id);
        }
        else
        {
            runs = runs.Where(r => experimentIds.Contains(r.ExperimentId));
        }
        runs = viewType switch
        {
            ViewType.ActiveOnly => runs.Where(r => r.LifecycleStage == LifecycleStage.Active),
            ViewType.DeletedOnly => runs.Where(r => r.LifecycleStage == LifecycleStage.Deleted),
            _ => runs,
        };
        if (attributes)
        {
            foreach (var term in filter.Terms)
            {
                if (term.Entity == SearchEntity.Attribute)
                {
                    runs = runs.Where(Attribute(term));
                }
            }
        }
        return runs;
    }

    private Expression<Func<Run, bool>> Attribute(FilterTerm term)
    {
        if (term.Value is NumberValue number)
        {
            var integer = SearchPredicates.Integer(term.Comparator, number.Value);
            return term.Key == SearchVocabulary.StartTimeAttribute
                ? SearchPredicates.On<Run, long?>(r => r.StartTime, integer)
                : SearchPredicates.On<Run, long?>(r => r.EndTime, integer);
        }
        return SearchPredicates.On(StringAttribute(term.Key), SearchPredicates.Text(_provider, term.Comparator, term.Value!));
    }

    /// <summary>The term as "this run has a matching row": a lookup by (run_id, key) per run.</summary>
    private Expression<Func<Run, bool>> Exists(FilterTerm term)
    {
        switch (term.Entity)
        {
            case SearchEntity.Metric:
                var metrics = MetricRows(term);
                return r => metrics.Any(m => m.RunId == r.Id);
            case SearchEntity.Param:
                var @params = ValueRows(ParamKey(term.Key), p => p.Value, term);
                return r => @params.Any(p => p.RunId == r.Id);
            case SearchEntity.Tag:
                var tags = ValueRows(TagKey(term.Key), t => t.Value, term);
                return r => tags.Any(t => t.RunId == r.Id);
            default:
                var inputs = InputRows(term);
                return r => inputs.Any(i => i.RunId == r.Id);
        }
    }

    /// <summary>The term as "the run is among these ids": the database builds the (small) set once.</summary>
    private Expression<Func<Run, bool>> In(FilterTerm term)
    {
        var ids = RunIdsOf(term);
        return r => ids.Contains(r.Id);
    }

    private IQueryable<string> RunIdsOf(FilterTerm term) => term.Entity switch
    {
        SearchEntity.Metric => MetricRows(term).Select(m => m.RunId),
        SearchEntity.Param => ValueRows(ParamKey(term.Key), p => p.Value, term).Select(p => p.RunId),
        SearchEntity.Tag => ValueRows(TagKey(term.Key), t => t.Value, term).Select(t => t.RunId),
        _ => InputRows(term).Select(i => i.RunId),
    };

    private IQueryable<LatestMetric> MetricKey(string key) =>
        db.LatestMetrics.Where(SearchPredicates.On<LatestMetric, string?>(m => m.Key, SearchPredicates.KeyEquals(_provider, key)));

    private IQueryable<Param> ParamKey(string key) =>
        db.Params.Where(SearchPredicates.On<Param, string?>(p => p.Key, SearchPredicates.KeyEquals(_provider, key)));

    private IQueryable<RunTag> TagKey(string key) =>
        db.RunTags.Where(SearchPredicates.On<RunTag, string?>(t => t.Key, SearchPredicates.KeyEquals(_provider, key)));

    private IQueryable<T> ValueRows<T>(IQueryable<T> keyed, Expression<Func<T, string?>> value, FilterTerm term) =>
        keyed.Where(SearchPredicates.On(value, SearchPredicates.Text(_provider, term.Comparator, term.Value!)));

    private IQueryable<LatestMetric> MetricRows(FilterTerm term) =>
        MetricKey(term.Key).Where(MetricValue(term.Comparator, ((NumberValue)term.Value!).Value));

    /// <summary>Inputs of runs whose dataset (name, digest) or context tag matches.</summary>
    private IQueryable<RunInput> InputRows(FilterTerm term)
    {
        var match = SearchPredicates.Text(_provider, term.Comparator, term.Value!);
        if (term.Key == "context")
        {
            // The context is the input's mlflow.data.context tag, as in MLflow.
            var contextKey = SearchVocabulary.DatasetContextTag;
            var contexts = db.InputTags.Where(t => t.Key == contextKey).Where(SearchPredicates.On<InputTag, string?>(t => t.Value, match));
            return db.RunInputs.Where(i => contexts.Any(t => t.InputId == i.Id));
        }
        Expression<Func<RunInput, string?>> field = term.Key == "name" ? i => i.Dataset!.Name : i => i.Dataset!.Digest;
        return db.RunInputs.Where(SearchPredicates.On(field, match));
    }

    /// <summary>
    /// NaN is stored as value 0 with is_nan set: it must never pass for 0. It compares as IEEE 754 says (false for
    /// everything but !=), which is also what MLflow's in-memory search does. is_nan is compared with a parameter
    /// rather than negated, so that SQLite can seek the (key, is_nan, value) index with it.
    /// </summary>
    private static Expression<Func<LatestMetric, bool>> MetricValue(Comparator op, double v)
    {
        var real = false;
        return op switch
        {
            Comparator.Equal => m => m.IsNaN == real && m.Value == v,
            Comparator.NotEqual => m => m.IsNaN != real || m.Value != v,
            Comparator.Less => m => m.IsNaN == real && m.Value < v,
            Comparator.LessOrEqual => m => m.IsNaN == real && m.Value <= v,
            Comparator.Greater => m => m.IsNaN == real && m.Value > v,
            Comparator.GreaterOrEqual => m => m.IsNaN == real && m.Value >= v,
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a numeric comparison"),
        };
    }

    private static Expression<Func<Run, string?>> StringAttribute(string key) => key switch
    {
        "run_id" => r => r.Id,
        // runs.name follows the mlflow.runName tag (RunService keeps them together), so no join is needed.
        "run_name" => r => r.Name,
        "status" => r => r.Status,
        "user_id" => r => r.UserId,
        "artifact_uri" => r => r.ArtifactUri,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "not a string attribute"),
    };

    // ---- order

    /// <summary>
    /// MLflow's order (_get_orderby_clauses): each term sorts first on a rank that puts runs without the value last in
    /// both directions (and NaN metrics after real values but before missing ones), then on the value; then start_time
    /// DESC unless ordered on already, then run id. The rank is explicit because the providers disagree on where NULL
    /// sorts. This form, for walks, looks a metric's, param's or tag's value up per run, as the walk reaches it;
    /// <see cref="SortAll"/> is the form for sorting. <paramref name="run"/> reaches the run from the element (identity
    /// for runs themselves).
    /// </summary>
    private IOrderedQueryable<T> Order<T>(IQueryable<T> source, Expression<Func<T, Run>> run, IReadOnlyList<OrderTerm> terms,
        IOrderedQueryable<T>? ordered = null)
    {
        var keys = new List<(LambdaExpression Key, bool Ascending)>();
        foreach (var term in terms)
        {
            var key = term.Key;
            switch (term.Entity)
            {
                case SearchEntity.Attribute:
                    keys.AddRange(AttributeKeys(term, sortAll: false));
                    break;
                case SearchEntity.Metric:
                    var metrics = MetricKey(key);
                    keys.Add(((Expression<Func<Run, int>>)(r =>
                        metrics.Where(m => m.RunId == r.Id).Select(m => (int?)(m.IsNaN ? 1 : 0)).FirstOrDefault() ?? 2), true));
                    keys.Add(((Expression<Func<Run, double?>>)(r =>
                        metrics.Where(m => m.RunId == r.Id).Select(m => (double?)m.Value).FirstOrDefault()), term.Ascending));
                    break;
                case SearchEntity.Param:
                    var @params = ParamKey(key);
                    keys.Add(((Expression<Func<Run, int>>)(r => @params.Any(p => p.RunId == r.Id) ? 0 : 1), true));
                    keys.Add(((Expression<Func<Run, string?>>)(r =>
                        @params.Where(p => p.RunId == r.Id).Select(p => p.Value).FirstOrDefault()), term.Ascending));
                    break;
                default:
                    var tags = TagKey(key);
                    keys.Add(((Expression<Func<Run, int>>)(r => tags.Any(t => t.RunId == r.Id) ? 0 : 1), true));
                    keys.Add(((Expression<Func<Run, string?>>)(r =>
                        tags.Where(t => t.RunId == r.Id).Select(t => t.Value).FirstOrDefault()), term.Ascending));
                    break;
            }
        }
        keys.AddRange(TailKeys(sortAll: false));
        foreach (var (key, ascending) in keys)
        {
            ordered = By(source, ordered, SearchPredicates.Compose(run, key), ascending);
        }
        return ordered!;
    }

    /// <summary>
    /// The runs in the whole order, sorted: the form for a set of candidates, where each metric, param or tag term
    /// joins its row once (LEFT JOIN on the run and the key), which yields both its rank and its value. Looking them up
    /// per candidate instead, twice a term, made PostgreSQL's sort of 20,000 candidates 2-3x slower (bench/, 100,000 runs).
    /// </summary>
    private IQueryable<Run> SortAll(IQueryable<Run> runs) => SortAll(runs, r => r, [], 0);

    private IQueryable<Run> SortAll<T>(IQueryable<T> source, Expression<Func<T, Run>> run, List<(LambdaExpression Key, bool Ascending)> keys, int term)
    {
        if (term == order.Count)
        {
            IOrderedQueryable<T>? ordered = null;
            foreach (var (key, ascending) in keys.Concat(TailKeys(sortAll: true).Select(k => (SearchPredicates.Compose(run, k.Key), k.Ascending))))
            {
                ordered = By(source, ordered, key, ascending);
            }
            return ordered!.Select(run);
        }
        var name = order[term].Key;
        switch (order[term].Entity)
        {
            case SearchEntity.Attribute:
                keys.AddRange(AttributeKeys(order[term], sortAll: true).Select(k => (SearchPredicates.Compose(run, k.Key), k.Ascending)));
                return SortAll(source, run, keys, term + 1);
            case SearchEntity.Metric:
                return Join(source, run, keys, term, MetricKey(name), m => m.RunId, m => m == null ? 2 : m.IsNaN ? 1 : 0, m => (double?)m!.Value);
            case SearchEntity.Param:
                return Join(source, run, keys, term, ParamKey(name), p => p.RunId, p => p == null ? 1 : 0, p => p!.Value);
            default:
                return Join(source, run, keys, term, TagKey(name), t => t.RunId, t => t == null ? 1 : 0, t => t!.Value);
        }
    }

    /// <summary>Joins the rows of one order term (at most one a run: (run, key) is their primary key) and adds the term's
    /// rank and value to the keys, then goes on with the next term.</summary>
    private IQueryable<Run> Join<T, TRow, TValue>(IQueryable<T> source, Expression<Func<T, Run>> run,
        List<(LambdaExpression Key, bool Ascending)> keys, int term, IQueryable<TRow> rows, Expression<Func<TRow, string>> runId,
        Expression<Func<TRow?, int>> rank, Expression<Func<TRow?, TValue>> value)
        where TRow : class
    {
        var joined = source
            .GroupJoin(rows, SearchPredicates.Compose(run, (Expression<Func<Run, string>>)(r => r.Id)), runId, (x, matches) => new { x, matches })
            .SelectMany(g => g.matches.DefaultIfEmpty(), (g, row) => new Joined<T, TRow> { Prev = g.x, Row = row });
        Expression<Func<Joined<T, TRow>, T>> prev = j => j.Prev;
        Expression<Func<Joined<T, TRow>, TRow?>> current = j => j.Row;
        var rebased = keys.Select(k => (SearchPredicates.Compose(prev, k.Key), k.Ascending)).ToList();
        rebased.Add((SearchPredicates.Compose(current, rank), true));
        rebased.Add((SearchPredicates.Compose(current, value), order[term].Ascending));
        return SortAll(joined, SearchPredicates.Compose(prev, run), rebased, term + 1);
    }

    /// <summary>The keys of an attribute term, on the run.</summary>
    /// <param name="sortAll">Sort the candidates rather than walk the start_time index: for a set of candidates, where a
    /// planner that walks the index hoping for early matches (PostgreSQL does, under LIMIT) reads the whole experiment.
    /// <c>start_time + 0</c> is the same order that no index provides.</param>
    private static IEnumerable<(LambdaExpression Key, bool Ascending)> AttributeKeys(OrderTerm term, bool sortAll)
    {
        switch (term.Key)
        {
            case "start_time" when sortAll:
                return [((Expression<Func<Run, long?>>)(r => r.StartTime + 0), term.Ascending)];
            case "start_time":
                return [((Expression<Func<Run, long?>>)(r => r.StartTime), term.Ascending)];
            case "end_time":
                return [((Expression<Func<Run, int>>)(r => r.EndTime == null ? 1 : 0), true), ((Expression<Func<Run, long?>>)(r => r.EndTime), term.Ascending)];
            case "run_name":
                return [((Expression<Func<Run, int>>)(r => r.Name == null ? 1 : 0), true), ((Expression<Func<Run, string?>>)(r => r.Name), term.Ascending)];
            case "user_id":
                return [((Expression<Func<Run, int>>)(r => r.UserId == null ? 1 : 0), true), ((Expression<Func<Run, string?>>)(r => r.UserId), term.Ascending)];
            default:
                return [(StringAttribute(term.Key), term.Ascending)];
        }
    }

    /// <summary>start_time DESC unless the order names it, then the run id: every order is total.</summary>
    private IEnumerable<(LambdaExpression Key, bool Ascending)> TailKeys(bool sortAll)
    {
        if (!order.Any(t => t is { Entity: SearchEntity.Attribute, Key: SearchVocabulary.StartTimeAttribute }))
        {
            yield return (sortAll ? (Expression<Func<Run, long?>>)(r => r.StartTime + 0) : r => r.StartTime, false);
        }
        yield return ((Expression<Func<Run, string>>)(r => r.Id), true);
    }

    /// <summary>OrderBy or ThenBy, ascending or descending, on a key of any type.</summary>
    private static IOrderedQueryable<T> By<T>(IQueryable<T> source, IOrderedQueryable<T>? ordered, LambdaExpression key, bool ascending)
    {
        var method = (ordered is null, ascending) switch
        {
            (true, true) => nameof(Queryable.OrderBy),
            (true, false) => nameof(Queryable.OrderByDescending),
            (false, true) => nameof(Queryable.ThenBy),
            (false, false) => nameof(Queryable.ThenByDescending),
        };
        var query = (IQueryable<T>?)ordered ?? source;
        var call = Expression.Call(typeof(Queryable), method, [typeof(T), key.ReturnType], query.Expression, Expression.Quote(key));
        return (IOrderedQueryable<T>)query.Provider.CreateQuery<T>(call);
    }
}

/// <summary>An element of a sorted search with the row of one more order term joined to it (null: the run has none).</summary>
internal sealed class Joined<TPrev, TRow>
    where TRow : class
{
    public TPrev Prev { get; init; } = default!;

    public TRow? Row { get; init; }
}
