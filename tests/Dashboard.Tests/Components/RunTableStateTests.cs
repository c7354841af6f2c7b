using Dashboard.Components.Pages.Experiments;
using Dashboard.Search;

namespace Dashboard.Tests.Components;

public sealed class RunTableStateTests
{
    [Fact]
    public void Reads_back_what_it_writes_into_the_url()
    {
        var state = new RunTableState
        {
            Filter = "metrics.acc > 0.5 AND params.opt = 'it''s'",
            Order = "metrics.`val loss` DESC",
            Columns = [new(SearchEntity.Metric, "val loss"), new(SearchEntity.Param, "a:b"), new(SearchEntity.Tag, "team")],
            Selected = ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"],
            Tab = Tab.Charts,
            Metric = "loss",
            Page = 3,
            PageSize = 100,
            Status = "FAILED",
            User = "o'brien",
            Since = "7d",
            Group = "opt",
            GroupMetric = "acc",
            GroupLowest = true,
        };
        var q = state.ToQuery();
        string? S(string key) => (string?)q[key];

        var back = RunTableState.From(S("filter"), S("order"), S("cols"), S("sel"), S("tab"), S("metric"), int.Parse(S("page")!, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(S("size")!, System.Globalization.CultureInfo.InvariantCulture), S("status"), S("user"), S("since"), S("group"), S("gmetric"), S("gbest"));

        back.ToQuery().ShouldBe(q);
        back.Columns.ShouldBe(state.Columns);
        back.Selected.ShouldBe(state.Selected);
        (back with { Columns = state.Columns, Selected = state.Selected }).ShouldBe(state);
    }

    [Fact]
    public void Ignores_what_a_hand_edited_url_gets_wrong()
    {
        var state = RunTableState.From(" ", null, "m:ok,x:bad,p,t:`tick`,p:ok,p:ok", "ABC,../x,0123", "other", null, -4, 7, "DONE", "", "2y", null, null, "max");

        state.Filter.ShouldBeNull();
        state.Columns.ShouldBe([new RunColumn(SearchEntity.Metric, "ok"), new RunColumn(SearchEntity.Param, "ok")]);
        state.Selected.ShouldBe(["ABC", "0123"]);
        state.Tab.ShouldBe(Tab.Runs);
        state.Page.ShouldBe(0);
        state.PageSize.ShouldBe(RunTableState.DefaultPageSize);
        state.Status.ShouldBeNull();
        state.User.ShouldBeNull();
        state.Since.ShouldBeNull();
        state.GroupLowest.ShouldBeFalse();
    }

    [Fact]
    public void Joins_the_quick_filters_to_the_typed_filter_as_a_filter_the_parser_accepts()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var state = new RunTableState { Filter = "metrics.acc > 0.5", Status = "FINISHED", User = "o'brien", Since = "1h" };

        var filter = state.EffectiveFilter(now);

        filter.ShouldBe("metrics.acc > 0.5 AND attributes.status = 'FINISHED' AND attributes.user_id = 'o''brien' AND attributes.start_time >= 1699996400000");
        var parsed = FilterParser.Parse(filter);
        parsed.Terms.Count.ShouldBe(4);
        ((StringValue)parsed.Terms[2].Value!).Value.ShouldBe("o'brien");
    }

    [Fact]
    public void A_column_names_its_key_in_mlflow_syntax()
    {
        var column = new RunColumn(SearchEntity.Metric, "val loss");

        column.Identifier.ShouldBe("metrics.`val loss`");
        OrderByParser.Parse([column.Identifier + " DESC"]).Single().Key.ShouldBe("val loss");
        RunColumn.Parse("p:a:b").ShouldBe(new RunColumn(SearchEntity.Param, "a:b"));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("+cmd", "'+cmd")]
    [InlineData("@sum", "'@sum")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("-1e-3", "-1e-3")]
    [InlineData("", "")]
    public void Csv_fields_are_quoted_and_formulas_defused(string value, string expected) =>
        RunExport.Csv(value).ShouldBe(expected);
}
