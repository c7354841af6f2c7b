using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Dashboard.ModelCards;
using static Dashboard.Core.Tests.ModelCards.ModelFixtures;

namespace Dashboard.Core.Tests.ModelCards;

public class SafeYamlTests
{
    [Fact]
    public void Reads_the_recorded_MLmodel_of_mlflow_2_17_into_nodes()
    {
        var root = SafeYaml.Parse(Text(Paddle217, "MLmodel")).ShouldBeOfType<YamlMap>();

        root.Entries.Select(e => e.Key).ShouldBe(["artifact_path", "flavors", "mlflow_version", "model_uuid", "run_id", "signature", "utc_time_created"]);
        root.Text("mlflow_version").ShouldBe("2.17.0");
        // Quoted in the file, so it stays text.
        root.Text("utc_time_created").ShouldBe("2026-11-27 20:24:57.606235");
        var paddle = ((YamlMap)root["flavors"]!)["paddle"].ShouldBeOfType<YamlMap>();
        paddle.Text("paddle_version").ShouldBe("2.6.1");
        paddle.Text("code").ShouldBeNull();
        ((YamlMap)root["signature"]!).Text("params").ShouldBeNull();
    }

    [Fact]
    public void Resolves_plain_scalars_as_pyyaml_does_and_keeps_quoted_ones_as_text()
    {
        var json = SafeYaml.ToJson(SafeYaml.Parse("""
            a: 3.10
            b: '3.10'
            c: 42
            d: -7
            e: 1e3
            f: yes
            g: off
            h: ~
            i:
            j: .inf
            k: .nan
            l: 2.6.1
            m: 0755
            n: "null"
            """)).ShouldBeOfType<JsonObject>();

        json.ToJsonString().ShouldBe(
            """{"a":3.1,"b":"3.10","c":42,"d":-7,"e":"1e3","f":true,"g":false,"h":null,"i":null,"j":"Infinity","k":"NaN","l":"2.6.1","m":"0755","n":"null"}""");
    }

    [Fact]
    public void A_key_given_twice_keeps_its_last_value()
    {
        var map = SafeYaml.Parse("a: 1\nb: 2\na: 3\n").ShouldBeOfType<YamlMap>();
        map.Entries.Select(e => $"{e.Key}={((YamlScalar)e.Value).Text}").ShouldBe(["b=2", "a=3"]);
    }

    [Fact]
    public void A_python_tag_is_text_and_creates_nothing()
    {
        // yaml.unsafe_load would run this; here it is a tagged string like any other.
        var map = SafeYaml.Parse("""
            a: !!python/object/apply:os.system ["touch /tmp/pwned"]
            b: !!python/name:os.system
            """).ShouldBeOfType<YamlMap>();

        map["a"].ShouldBeOfType<YamlList>().Items.Single().ShouldBeOfType<YamlScalar>().Text.ShouldBe("touch /tmp/pwned");
        map["b"].ShouldBeOfType<YamlScalar>().Text.ShouldBe("");
    }

    [Fact]
    public void Refuses_a_billion_laughs_alias_bomb_quickly()
    {
        var bomb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 10; i++)
        {
            bomb.Append(System.Globalization.CultureInfo.InvariantCulture, $"a{i}: &a{i} [");
            bomb.AppendJoin(", ", Enumerable.Repeat($"*a{i - 1}", 10));
            bomb.Append("]\n");
        }
        var watch = Stopwatch.StartNew();

        var e = Should.Throw<YamlFileException>(() => SafeYaml.Parse(bomb.ToString()));

        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
        e.Message.ShouldContain("aliases are expanded");
        bomb.Length.ShouldBeLessThan(1000);
    }

    [Fact]
    public void Reads_aliases_within_the_node_budget()
    {
        var map = SafeYaml.Parse("base: &b {x: 1}\nother: *b\n").ShouldBeOfType<YamlMap>();
        SafeYaml.ToJson(map).ToJsonString().ShouldBe("""{"base":{"x":1},"other":{"x":1}}""");
    }

    [Fact]
    public void Refuses_an_alias_to_an_unknown_anchor()
    {
        Should.Throw<YamlFileException>(() => SafeYaml.Parse("a: *nowhere\n"));
    }

    [Theory]
    [InlineData(10_000, "[")]
    [InlineData(10_000, "- ")]
    [InlineData(5_000, "{a: ")]
    public void Refuses_nesting_deeper_than_the_limit_without_exhausting_the_stack(int depth, string open)
    {
        var text = string.Concat(Enumerable.Repeat(open, depth)) + "x";

        var e = Should.Throw<YamlFileException>(() => SafeYaml.Parse(text));

        e.Message.ShouldBe($"nested deeper than {SafeYaml.DefaultMaxDepth} levels.");
    }

    [Fact]
    public void Refuses_more_values_than_the_budget()
    {
        var text = string.Concat(Enumerable.Range(0, SafeYaml.DefaultMaxNodes + 1).Select(i => $"- {i}\n"));
        Should.Throw<YamlFileException>(() => SafeYaml.Parse(text)).Message.ShouldContain($"more than {SafeYaml.DefaultMaxNodes} values");
    }

    [Theory]
    [InlineData("a: [1, 2\n")]
    [InlineData("a: b: c\n")]
    [InlineData("\"unterminated\n")]
    [InlineData("a:\n  - 1\n - 2\n")]
    [InlineData("? [a, b]\n: c\n")]
    public void Malformed_yaml_is_a_yaml_file_exception_with_a_position(string text)
    {
        Should.Throw<YamlFileException>(() => SafeYaml.Parse(text)).Message.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Reads_only_the_first_document()
    {
        SafeYaml.Parse("a: 1\n---\nb: [\n").ShouldBeOfType<YamlMap>().Text("a").ShouldBe("1");
        SafeYaml.Parse("").ShouldBeNull();
    }
}
