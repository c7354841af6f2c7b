using Bunit;
using Dashboard.Components.Pages.Experiments;

namespace Dashboard.Tests.Components;

public sealed class SortHeaderTests : ComponentContext
{
    [Fact]
    public void A_metric_orders_best_first_then_turns_round()
    {
        string? order = null;
        var state = new RunTableState();
        var header = Render<SortHeader>(p => p.Add(h => h.Title, "val loss").Add(h => h.Identifier, "metrics.`val loss`")
            .Add(h => h.State, state).Add(h => h.DescendingFirst, true).Add(h => h.OnOrder, (string o) => order = o));

        header.Find("[data-sort]").GetAttribute("data-sort").ShouldBe("none");
        header.Find("[data-sort]").Click();
        order.ShouldBe("metrics.`val loss` DESC");

        header.Render(p => p.Add(h => h.State, state with { Order = order }));
        header.Find("[data-sort]").GetAttribute("data-sort").ShouldBe("desc");
        header.Find("[data-sort]").Click();
        order.ShouldBe("metrics.`val loss` ASC");
    }

    [Fact]
    public void Text_orders_ascending_first_and_another_columns_order_does_not_mark_it()
    {
        string? order = null;
        var header = Render<SortHeader>(p => p.Add(h => h.Title, "Run").Add(h => h.Identifier, "attributes.run_name")
            .Add(h => h.State, new RunTableState { Order = "attributes.run_name_x DESC" }).Add(h => h.OnOrder, (string o) => order = o));

        header.Find("[data-sort]").GetAttribute("data-sort").ShouldBe("none");
        header.Find("[data-sort]").Click();
        order.ShouldBe("attributes.run_name ASC");
    }
}
