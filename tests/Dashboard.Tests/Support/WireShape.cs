using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dashboard.Tests.Support;

/// <summary>
/// Asserts the shape of a wire message against a compact spec written as JSON: an object lists exactly the
/// fields that must be there (a name ending in <c>?</c> may be absent, nothing else may appear), an array holds
/// one spec that every element must match, and a leaf names the JSON kind: <c>"string"</c>, <c>"number"</c>,
/// <c>"bool"</c>, <c>"double"</c> (a number, or one of the strings "NaN", "Infinity", "-Infinity").
/// </summary>
public static class WireShape
{
    public static void ShouldHaveShape(this JsonNode? actual, string spec)
    {
        var problems = new List<string>();
        Check(actual, JsonNode.Parse(spec), "$", problems);
        problems.ShouldBeEmpty($"in {actual?.ToJsonString()}");
    }

    private static void Check(JsonNode? actual, JsonNode? spec, string path, List<string> problems)
    {
        switch (spec)
        {
            case JsonObject fields:
                if (actual is not JsonObject obj)
                {
                    problems.Add($"{path}: expected an object, got {Kind(actual)}");
                    return;
                }
                var expected = fields.ToDictionary(f => f.Key.TrimEnd('?'), f => (Optional: f.Key.EndsWith('?'), Spec: f.Value));
                foreach (var (name, (optional, fieldSpec)) in expected)
                {
                    if (obj.TryGetPropertyValue(name, out var value))
                    {
                        Check(value, fieldSpec, $"{path}.{name}", problems);
                    }
                    else if (!optional)
                    {
                        problems.Add($"{path}.{name}: missing");
                    }
                }
                foreach (var (name, _) in obj)
                {
                    if (!expected.ContainsKey(name))
                    {
                        problems.Add($"{path}.{name}: not part of the message");
                    }
                }
                break;
            case JsonArray items:
                if (actual is not JsonArray array)
                {
                    problems.Add($"{path}: expected an array, got {Kind(actual)}");
                    return;
                }
                for (var i = 0; i < array.Count; i++)
                {
                    Check(array[i], items[0], $"{path}[{i}]", problems);
                }
                break;
            default:
                var kind = spec!.GetValue<string>();
                var actualKind = Kind(actual);
                var ok = kind switch
                {
                    "double" => actualKind == "number" || actual?.ToString() is "NaN" or "Infinity" or "-Infinity",
                    _ => actualKind == kind,
                };
                if (!ok)
                {
                    problems.Add($"{path}: expected {kind}, got {actualKind} ({actual?.ToJsonString()})");
                }
                break;
        }
    }

    public static string Kind(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "undefined",
    };
}
