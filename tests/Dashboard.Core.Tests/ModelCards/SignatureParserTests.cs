using Dashboard.ModelCards;

namespace Dashboard.Core.Tests.ModelCards;

public class SignatureParserTests
{
    [Fact]
    public void Reads_tensor_specs_as_mlflow_writes_them_for_a_paddle_model()
    {
        var inputs = SignatureParser.Parse("""[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]""", isParams: false);

        var field = inputs.ShouldHaveSingleItem();
        field.Kind.ShouldBe("tensor");
        field.Name.ShouldBeNull();
        field.Type.ShouldBe("float32");
        field.Shape.ShouldBe([-1L, 4L]);
        field.Optional.ShouldBeFalse();
    }

    [Fact]
    public void Reads_named_tensors()
    {
        var fields = SignatureParser.Parse(
            """[{"type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 28, 28, 1]}, "name": "image"}, {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}, "name": "scale"}]""",
            isParams: false);

        fields.Select(f => $"{f.Name}:{f.Type}:{string.Join(",", f.Shape!)}").ShouldBe(["image:uint8:-1,28,28,1", "scale:float64:-1"]);
    }

    [Fact]
    public void Reads_column_specs_with_required_optional_and_nested_types()
    {
        var fields = SignatureParser.Parse("""
            [{"type": "double", "name": "x", "required": true},
             {"type": "string", "name": "note", "required": false},
             {"type": "long", "name": "old", "optional": true},
             {"type": "array", "items": {"type": "string"}, "name": "tags", "required": true},
             {"type": "object", "properties": {"a": {"type": "long", "required": true}, "b": {"type": "array", "items": {"type": "double"}, "required": false}}, "name": "o", "required": true},
             {"type": "map", "values": {"type": "double"}, "name": "m", "required": true},
             {"type": "long", "required": true}]
            """, isParams: false);

        fields.Select(f => $"{f.Kind}|{f.Name}|{f.Type}|{f.Optional}").ShouldBe([
            "column|x|double|False",
            "column|note|string|True",
            "column|old|long|True",
            "column|tags|array<string>|False",
            "column|o|object{a: long, b?: array<double>}|False",
            "column|m|map<string, double>|False",
            "column||long|False",
        ]);
    }

    [Fact]
    public void Reads_params_with_defaults_and_shapes()
    {
        var fields = SignatureParser.Parse(
            """[{"name": "threshold", "type": "double", "default": 0.5, "shape": null}, {"name": "classes", "type": "long", "default": [0, 1], "shape": [-1]}]""",
            isParams: true);

        fields[0].ShouldSatisfyAllConditions(
            f => f.Kind.ShouldBe("param"), f => f.Name.ShouldBe("threshold"), f => f.Type.ShouldBe("double"),
            f => f.Default!.ToJsonString().ShouldBe("0.5"), f => f.Shape.ShouldBeNull());
        fields[1].Default!.ToJsonString().ShouldBe("[0,1]");
        fields[1].Shape.ShouldBe([-1L]);
    }

    [Theory]
    [InlineData("[{\"type\": ", "not valid JSON")]
    [InlineData("{\"type\": \"double\"}", "not a JSON list")]
    [InlineData("[1]", "item 0 is not a JSON object")]
    [InlineData("[{\"name\": \"x\"}]", "item 0 has no type")]
    [InlineData("[{\"type\": \"tensor\"}]", "tensor without a tensor-spec dtype")]
    [InlineData("[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [\"a\"]}}]", "shape that is not a list of integers")]
    public void A_malformed_part_is_a_format_exception_that_says_why(string json, string message)
    {
        Should.Throw<FormatException>(() => SignatureParser.Parse(json, isParams: false)).Message.ShouldContain(message);
    }

    [Fact]
    public void Deep_json_is_refused_not_recursed()
    {
        var json = string.Concat(Enumerable.Repeat("[", 10_000));
        Should.Throw<FormatException>(() => SignatureParser.Parse(json, isParams: false));
    }
}
