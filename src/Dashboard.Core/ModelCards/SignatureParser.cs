using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dashboard.ModelCards;

/// <summary>
/// MLmodel keeps a signature's inputs, outputs and params as JSON text (mlflow.types.Schema.to_json and
/// ParamSchema.to_json): a list of column specs (<c>{"type": "double", "name": "x", "required": true}</c>), tensor specs
/// (<c>{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}</c>) or param specs
/// (<c>{"name": "t", "type": "double", "default": 0.5, "shape": null}</c>). This reads them into fields.
/// </summary>
public static class SignatureParser
{
    private const int MaxTypeLength = 500;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    /// <summary>The fields of one part; throws <see cref="FormatException"/> with a message for people.</summary>
    public static List<SignatureField> Parse(string json, bool isParams)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: Options);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not valid JSON: {e.Message}", e);
        }
        if (root is not JsonArray items)
        {
            throw new FormatException("not a JSON list of specs.");
        }
        var fields = new List<SignatureField>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not JsonObject spec)
            {
                throw new FormatException($"item {i} is not a JSON object.");
            }
            fields.Add(isParams ? Param(spec, i) : Field(spec, i));
        }
        return fields;
    }

    private static SignatureField Field(JsonObject spec, int index)
    {
        var type = Text(spec["type"]) ?? throw new FormatException($"item {index} has no type.");
        var name = Text(spec["name"]);
        var optional = Optional(spec);
        if (type == "tensor")
        {
            if (spec["tensor-spec"] is not JsonObject tensor || Text(tensor["dtype"]) is not { } dtype)
            {
                throw new FormatException($"item {index} is a tensor without a tensor-spec dtype.");
            }
            return new SignatureField("tensor", name, dtype, Shape(tensor["shape"], index), optional, null);
        }
        return new SignatureField("column", name, Describe(spec, depth: 0), null, optional, null);
    }

    private static SignatureField Param(JsonObject spec, int index)
    {
        var name = Text(spec["name"]) ?? throw new FormatException($"param {index} has no name.");
        var type = spec["type"] is JsonObject ? Describe(spec["type"]!.AsObject(), 0) : Text(spec["type"])
            ?? throw new FormatException($"param {index} has no type.");
        return new SignatureField("param", name, type, Shape(spec["shape"], index), Optional: false, spec["default"]?.DeepClone());
    }

    // MLflow ≥ 2.10 writes "required"; 2.4 to 2.9 wrote "optional".
    private static bool Optional(JsonObject spec) =>
        spec["required"] is JsonValue r && r.GetValueKind() == JsonValueKind.False
        || spec["optional"] is JsonValue o && o.GetValueKind() == JsonValueKind.True;

    private static List<long>? Shape(JsonNode? shape, int index)
    {
        switch (shape)
        {
            case null:
                return null;
            case JsonArray dims:
                var result = new List<long>(dims.Count);
                foreach (var d in dims)
                {
                    if (d is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var n))
                    {
                        throw new FormatException($"item {index} has a shape that is not a list of integers.");
                    }
                    result.Add(n);
                }
                return result;
            default:
                throw new FormatException($"item {index} has a shape that is not a list of integers.");
        }
    }

    /// <summary>A column type in one line: <c>double</c>, <c>array&lt;string&gt;</c>, <c>object{a: long, b?: string}</c>, <c>map&lt;string, double&gt;</c>.</summary>
    private static string Describe(JsonObject spec, int depth)
    {
        var sb = new StringBuilder();
        Describe(spec, depth, sb);
        return sb.Length > MaxTypeLength ? string.Concat(sb.ToString(0, MaxTypeLength), "…") : sb.ToString();
    }

    private static void Describe(JsonObject spec, int depth, StringBuilder sb)
    {
        var type = Text(spec["type"]) ?? "?";
        if (depth > 8 || sb.Length > MaxTypeLength)
        {
            sb.Append(type);
            return;
        }
        switch (type)
        {
            case "array" when spec["items"] is JsonObject items:
                sb.Append("array<");
                Describe(items, depth + 1, sb);
                sb.Append('>');
                break;
            case "map" when spec["values"] is JsonObject values:
                sb.Append("map<string, ");
                Describe(values, depth + 1, sb);
                sb.Append('>');
                break;
            case "object" when spec["properties"] is JsonObject properties:
                sb.Append("object{");
                var first = true;
                foreach (var (name, property) in properties)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }
                    first = false;
                    sb.Append(name);
                    if (property is JsonObject p)
                    {
                        sb.Append(Optional(p) ? "?: " : ": ");
                        Describe(p, depth + 1, sb);
                    }
                }
                sb.Append('}');
                break;
            default:
                sb.Append(type);
                break;
        }
    }

    private static string? Text(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => null,
    };
}
