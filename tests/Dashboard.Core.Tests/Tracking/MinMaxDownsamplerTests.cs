using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Tracking;

public class MinMaxDownsamplerTests
{
    private static MetricPoint P(long step, double value, bool nan = false) => new(step, 1_700_000_000_000 + step, nan ? 0 : value, nan);

    private static List<MetricPoint> Sine(int n) => Enumerable.Range(0, n).Select(i => P(i, Math.Sin(i / 50.0))).ToList();

    [Theory]
    [InlineData(10, 1000)]
    [InlineData(1000, 1000)]
    [InlineData(1001, 1000)]
    [InlineData(100_000, 1000)]
    [InlineData(100_000, 320)]
    [InlineData(7, 4)]
    [InlineData(100_000, 5)]
    public void Keeps_the_budget_the_first_and_the_last_point_in_history_order(int n, int budget)
    {
        var points = Sine(n);
        var result = MinMaxDownsampler.Reduce(points, budget);
        result.Count.ShouldBeLessThanOrEqualTo(budget);
        result[0].ShouldBe(points[0]);
        result[^1].ShouldBe(points[^1]);
        result.Select(p => p.Step).ShouldBeInOrder(SortDirection.Ascending);
        result.Select(p => p.Step).Distinct().Count().ShouldBe(result.Count);
        if (n <= budget)
        {
            result.ShouldBe(points);
        }
    }

    [Fact]
    public void A_single_spike_among_a_million_points_survives_as_do_the_global_min_and_max()
    {
        const int n = 1_000_000;
        var sampler = new MinMaxDownsampler(n, 1000);
        for (var i = 0; i < n; i++)
        {
            sampler.Add(P(i, i == 654_321 ? 1e6 : i == 123_457 ? -5 : i % 7));
        }
        var result = sampler.Result();
        result.Count.ShouldBeLessThanOrEqualTo(1000);
        result.ShouldContain(P(654_321, 1e6));
        result.ShouldContain(P(123_457, -5));
        // Each bucket of 2,002 points keeps a 0 and a 6: the band the raw curve fills is still drawn.
        result.Where(p => p.Step is > 0 and < n - 1 && p.Step != 654_321 && p.Step != 123_457).Select(p => p.Value).Distinct().Order()
            .ShouldBe([0.0, 6.0]);
    }

    [Fact]
    public void NaN_never_counts_as_an_extreme_but_a_bucket_of_only_NaN_keeps_one_for_the_gap()
    {
        // 10 buckets of 100 points: bucket 3 is all NaN, bucket 5 has NaN beside finite values.
        var points = Enumerable.Range(0, 1000).Select(i => i is >= 300 and < 400 ? P(i, 0, nan: true)
            : i is >= 500 and < 510 ? P(i, 0, nan: true) : P(i, i % 10)).ToList();
        var result = MinMaxDownsampler.Reduce(points, 22);
        result.Count(p => p.IsNaN).ShouldBe(1);
        result.Single(p => p.IsNaN).Step.ShouldBe(300);
        result.Where(p => p.Step is >= 500 and < 600).Select(p => p.Value).Order().ShouldBe([0.0, 9.0]);
    }

    [Fact]
    public void Infinities_are_the_extremes_of_their_bucket()
    {
        var points = Enumerable.Range(0, 1000).Select(i => P(i, i == 250 ? double.PositiveInfinity : i == 750 ? double.NegativeInfinity : 1)).ToList();
        var result = MinMaxDownsampler.Reduce(points, 10);
        result.ShouldContain(P(250, double.PositiveInfinity));
        result.ShouldContain(P(750, double.NegativeInfinity));
    }

    [Fact]
    public void Points_at_one_step_are_told_apart_by_position_not_by_step()
    {
        // Clients that log without a step put every point at step 0; the wall time is what separates them.
        var points = Enumerable.Range(0, 5000).Select(i => new MetricPoint(0, 1000 + i, i == 4321 ? 99 : 1, false)).ToList();
        var result = MinMaxDownsampler.Reduce(points, 100);
        result.Count.ShouldBeGreaterThan(2);
        result.ShouldContain(points[4321]);
        result.Select(p => p.Timestamp).ShouldBeInOrder(SortDirection.Ascending);
    }

    [Fact]
    public void Refuses_more_points_than_announced_and_a_budget_below_four()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new MinMaxDownsampler(10, 3));
        var sampler = new MinMaxDownsampler(1, 4);
        sampler.Add(P(0, 1));
        Should.Throw<InvalidOperationException>(() => sampler.Add(P(1, 1)));
        new MinMaxDownsampler(0, 4).Result().ShouldBeEmpty();
    }
}
