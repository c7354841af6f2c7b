using Bunit;
using Dashboard.Components.Pages.Experiments;
using Dashboard.Search;
using Microsoft.AspNetCore.Components.Web;

namespace Dashboard.Tests.Components;

public sealed class FilterBoxTests : ComponentContext
{
    [Fact]
    public void Marks_the_parsers_error_at_its_position_and_shows_its_message()
    {
        const string filter = "params.lr = 0.1";
        FilterParser.TryParse(filter, SearchScope.Runs, out _, out var error).ShouldBeFalse();

        var box = Render<FilterBox>(p => p.Add(b => b.Value, filter).Add(b => b.Error, error));

        box.Find("[data-testid=filter-error]").GetAttribute("data-position").ShouldBe(error!.Position.ToString(System.Globalization.CultureInfo.InvariantCulture));
        box.Find("[data-testid=filter-error-at]").TextContent.ShouldBe(filter.Substring(error.Position, 1));
        box.Find("[data-testid=filter-error] .filter-error").TextContent.ShouldBe(filter);
        box.Find("[data-testid=filter-error-message]").TextContent.ShouldBe(error.Message);
    }

    [Fact]
    public void Marks_the_end_when_the_filter_stops_too_soon()
    {
        const string filter = "metrics.acc >";
        FilterParser.TryParse(filter, SearchScope.Runs, out _, out var error).ShouldBeFalse();

        var box = Render<FilterBox>(p => p.Add(b => b.Value, filter).Add(b => b.Error, error));

        error!.Position.ShouldBe(filter.Length);
        box.Find("[data-testid=filter-error-at]").TextContent.ShouldBe(" ");
    }

    [Fact]
    public void Applies_the_typed_filter_on_enter_and_shows_no_error_for_a_good_one()
    {
        string? applied = "not yet";
        var box = Render<FilterBox>(p => p.Add(b => b.OnApply, (string? f) => applied = f));

        box.FindAll("[data-testid=filter-error]").ShouldBeEmpty();
        var input = box.Find("input[data-testid=filter-input]");
        input.Input("metrics.acc > 0.5");
        input.KeyDown(new KeyboardEventArgs { Key = "Enter" });

        applied.ShouldBe("metrics.acc > 0.5");
    }

    [Fact]
    public void Offers_the_syntax_help_and_applies_an_example()
    {
        string? applied = null;
        var box = Render<FilterBox>(p => p.Add(b => b.OnApply, (string? f) => applied = f));

        box.FindAll("[data-testid=filter-help]").ShouldBeEmpty();
        box.Find("[data-testid=filter-help-toggle]").Click();
        var help = box.Find("[data-testid=filter-help]");
        help.TextContent.ShouldContain("metrics.accuracy > 0.9");
        box.FindAll("[data-testid=filter-help] a").First(a => a.TextContent == "params.optimizer = 'adam'").Click();

        applied.ShouldBe("params.optimizer = 'adam'");
    }
}
