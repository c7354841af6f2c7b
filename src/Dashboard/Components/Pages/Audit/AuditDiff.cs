using System.Text.Json;

namespace Dashboard.Components.Pages.Audit;

/// <summary>One field of an audit event's state: its value before and after (null where the state had no such field).</summary>
public sealed record DiffLine(string Key, string? Before, string? After)
{
    public bool Changed => !string.Equals(Before, After, StringComparison.Ordinal);
}

/// <summary>
/// An audit event's before and after as a readable diff: the top-level fields of both JSON states side by side, in the
/// order they first appear. Strings show as text, anything else as its JSON. A state that is not a JSON object (one cut
/// when it was recorded) shows whole under "(state)".
/// </summary>
public static class AuditDiff
{
    public const string WholeState = "(state)";

    public static IReadOnlyList<DiffLine> Of(string? before, string? after)
    {
        var b = Fields(before);
        var a = Fields(after);
        var keys = b.Select(f => f.Key).Concat(a.Select(f => f.Key)).Distinct(StringComparer.Ordinal);
        var bm = b.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        var am = a.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        return [.. keys.Select(k => new DiffLine(k, bm.GetValueOrDefault(k), am.GetValueOrDefault(k)))];
    }

    private static List<KeyValuePair<string, string?>> Fields(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return [new(WholeState, Text(doc.RootElement))];
            }
            var fields = new List<KeyValuePair<string, string?>>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (fields.All(f => f.Key != p.Name))
                {
                    fields.Add(new(p.Name, Text(p.Value)));
                }
            }
            return fields;
        }
        catch (JsonException)
        {
            return [new(WholeState, json)];
        }
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        _ => value.GetRawText(),
    };
}
