using System.Linq.Expressions;
using System.Text;
using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>
/// Comparisons of a filter as EF Core expressions, one provider at a time. Every value reaches SQL as a parameter
/// (closures), never as SQL text. The vendor differences of search live here:
/// <list type="bullet">
/// <item>LIKE is case-sensitive everywhere: SQLite's LIKE is not, so SQLite uses GLOB with the pattern translated;
/// SQL Server compares under a binary collation.</item>
/// <item>ILIKE: PostgreSQL's ILIKE; SQLite's LIKE (ASCII case folding); SQL Server LOWER() on both sides.</item>
/// <item>= is case-sensitive: SQL Server's default collation is not, and it ignores trailing spaces, so it compares
/// under a binary collation and checks the byte length too.</item>
/// <item>In MLflow's patterns only % and _ are wildcards: backslash (PostgreSQL's default LIKE escape), and [ (a SQL
/// Server character class) match themselves.</item>
/// </list>
/// </summary>
internal static class SearchPredicates
{
    // Binary code-point comparison: what SQLite and PostgreSQL (deterministic collations) do for = and LIKE.
    private const string BinaryCollation = "Latin1_General_100_BIN2";
    private const string Escape = "\\";

    /// <summary>A predicate on a string column for =, !=, LIKE, ILIKE, IN and NOT IN. A NULL column never matches,
    /// as in MLflow, where a run without the value is not a match.</summary>
    public static Expression<Func<string?, bool>> Text(DatabaseProvider provider, Comparator op, FilterValue value)
    {
        if (op is Comparator.In or Comparator.NotIn)
        {
            var list = ((ListValue)value).Values.Distinct(StringComparer.Ordinal).ToList();
            return (provider, op) switch
            {
                (DatabaseProvider.SqlServer, Comparator.In) => s => list.Contains(EF.Functions.Collate(s!, BinaryCollation)),
                (DatabaseProvider.SqlServer, _) => s => s != null && !list.Contains(EF.Functions.Collate(s, BinaryCollation)),
                (_, Comparator.In) => s => list.Contains(s!),
                _ => s => s != null && !list.Contains(s),
            };
        }
        var v = ((StringValue)value).Value;
        switch (op)
        {
            case Comparator.Equal:
                return Equal(provider, v);
            case Comparator.NotEqual:
                return Not(Equal(provider, v));
            case Comparator.Like when provider == DatabaseProvider.Sqlite:
                var glob = LikeToGlob(v);
                return s => s != null && EF.Functions.Glob(s, glob);
            case Comparator.Like when provider == DatabaseProvider.SqlServer:
                var bracketed = EscapeLike(v, escapeBracket: true);
                return s => s != null && EF.Functions.Like(EF.Functions.Collate(s, BinaryCollation), bracketed, Escape);
            case Comparator.Like:
                var pattern = EscapeLike(v, escapeBracket: false);
                return s => s != null && EF.Functions.Like(s, pattern, Escape);
            case Comparator.ILike when provider == DatabaseProvider.PostgreSql:
                var ipattern = EscapeLike(v, escapeBracket: false);
                return s => s != null && EF.Functions.ILike(s, ipattern, Escape);
            case Comparator.ILike when provider == DatabaseProvider.SqlServer:
                var lowered = EscapeLike(v, escapeBracket: true).ToLowerInvariant();
                return s => s != null && EF.Functions.Like(s.ToLower(), lowered, Escape);
            case Comparator.ILike:
                var spattern = EscapeLike(v, escapeBracket: false);
                return s => s != null && EF.Functions.Like(s, spattern, Escape);
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, "not a string comparison");
        }
    }

    /// <summary>Exact equality of a key: an index seek on the key, refined on SQL Server to be case- and space-exact.</summary>
    public static Expression<Func<string?, bool>> KeyEquals(DatabaseProvider provider, string key) => Equal(provider, key);

    private static Expression<Func<string?, bool>> Equal(DatabaseProvider provider, string v) => provider switch
    {
        // The plain comparison comes first so that SQL Server can still seek an index on the column.
        DatabaseProvider.SqlServer => s => s == v
            && EF.Functions.Collate(s, BinaryCollation) == v
            && EF.Functions.DataLength(s) == EF.Functions.DataLength(v),
        _ => s => s == v,
    };

    private static Expression<Func<string?, bool>> Not(Expression<Func<string?, bool>> predicate)
    {
        var s = predicate.Parameters[0];
        return Expression.Lambda<Func<string?, bool>>(
            Expression.AndAlso(Expression.NotEqual(s, Expression.Constant(null, typeof(string))), Expression.Not(predicate.Body)), s);
    }

    /// <summary>A predicate on an integer column (start_time, creation_time...). A fractional value is compared as
    /// the mathematics says (start_time &gt; 1.5 is start_time &gt;= 2) so the column needs no cast and keeps its index.</summary>
    public static Expression<Func<long?, bool>> Integer(Comparator op, double value)
    {
        const double TwoTo63 = 9223372036854775808d;
        if (Math.Floor(value) == value && value >= -TwoTo63 && value < TwoTo63)
        {
            var n = (long)value;
            return op switch
            {
                Comparator.Equal => c => c == n,
                Comparator.NotEqual => c => c != null && c != n,
                Comparator.Less => c => c < n,
                Comparator.LessOrEqual => c => c <= n,
                Comparator.Greater => c => c > n,
                Comparator.GreaterOrEqual => c => c >= n,
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a numeric comparison"),
            };
        }
        Expression<Func<long?, bool>> none = c => false;
        Expression<Func<long?, bool>> any = c => c != null;
        switch (op)
        {
            case Comparator.Equal:
                return none;
            case Comparator.NotEqual:
                return any;
            case Comparator.Greater or Comparator.GreaterOrEqual:
                var up = Math.Ceiling(value);
                if (up >= TwoTo63)
                {
                    return none;
                }
                if (up < -TwoTo63)
                {
                    return any;
                }
                var low = (long)up;
                return c => c >= low;
            case Comparator.Less or Comparator.LessOrEqual:
                var down = Math.Floor(value);
                if (down < -TwoTo63)
                {
                    return none;
                }
                if (down >= TwoTo63)
                {
                    return any;
                }
                var high = (long)down;
                return c => c <= high;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, "not a numeric comparison");
        }
    }

    /// <summary>Applies a predicate on a value to a column of an entity: <c>On(p =&gt; p.Value, s =&gt; s == v)</c>.</summary>
    public static Expression<Func<T, bool>> On<T, TColumn>(Expression<Func<T, TColumn>> column, Expression<Func<TColumn, bool>> predicate)
    {
        var body = new Substitute(predicate.Parameters[0], column.Body).Visit(predicate.Body);
        return Expression.Lambda<Func<T, bool>>(body, column.Parameters);
    }

    /// <summary>Applies <paramref name="second"/> to the result of <paramref name="first"/>: <c>x =&gt; second(first(x))</c>.</summary>
    public static Expression<Func<T, TResult>> Compose<T, TMid, TResult>(Expression<Func<T, TMid>> first,
        Expression<Func<TMid, TResult>> second)
    {
        var body = new Substitute(second.Parameters[0], first.Body).Visit(second.Body);
        return Expression.Lambda<Func<T, TResult>>(body, first.Parameters);
    }

    /// <summary><see cref="Compose{T, TMid, TResult}"/> for lambdas whose types are known at run time only.</summary>
    public static LambdaExpression Compose(LambdaExpression first, LambdaExpression second) =>
        Expression.Lambda(new Substitute(second.Parameters[0], first.Body).Visit(second.Body), first.Parameters);

    /// <summary>MLflow's LIKE pattern (% and _ are wildcards, nothing escapes) for LIKE ... ESCAPE '\'.</summary>
    internal static string EscapeLike(string pattern, bool escapeBracket)
    {
        var sb = new StringBuilder(pattern.Length + 4);
        foreach (var c in pattern)
        {
            if (c == '\\' || (escapeBracket && c == '['))
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>MLflow's LIKE pattern as a SQLite GLOB pattern, which is case-sensitive: % is *, _ is ?, and GLOB's own
    /// wildcards are bracketed so that they match themselves.</summary>
    internal static string LikeToGlob(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 4);
        foreach (var c in pattern)
        {
            sb.Append(c switch
            {
                '%' => "*",
                '_' => "?",
                '*' => "[*]",
                '?' => "[?]",
                '[' => "[[]",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }

    private sealed class Substitute(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}
