using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Dashboard.ModelCards;

/// <summary>A YAML node of a file the server reads but does not trust: a scalar, a list or a mapping.</summary>
public abstract class YamlNode
{
    /// <summary>How many nodes this one stands for, itself and everything below it (aliases counted as expanded).</summary>
    internal int Weight { get; init; } = 1;
}

/// <summary>A scalar with its text as written; <see cref="Plain"/> when unquoted (only plain scalars resolve to null, bool or numbers).</summary>
public sealed class YamlScalar(string text, bool plain) : YamlNode
{
    public string Text { get; } = text;

    public bool Plain { get; } = plain;

    /// <summary>Whether the scalar means null as PyYAML reads it (<c>~</c>, <c>null</c>, nothing).</summary>
    public bool IsNull => Plain && Text is "" or "~" or "null" or "Null" or "NULL";
}

public sealed class YamlList(IReadOnlyList<YamlNode> items) : YamlNode
{
    public IReadOnlyList<YamlNode> Items { get; } = items;
}

/// <summary>A mapping, its keys in file order; a key given twice keeps its last value (PyYAML's behaviour).</summary>
public sealed class YamlMap(IReadOnlyList<KeyValuePair<string, YamlNode>> entries) : YamlNode
{
    public IReadOnlyList<KeyValuePair<string, YamlNode>> Entries { get; } = entries;

    public YamlNode? this[string key] => Entries.LastOrDefault(e => e.Key == key).Value;

    /// <summary>The text of a scalar entry; null when absent, null-valued or not a scalar.</summary>
    public string? Text(string key) => this[key] is YamlScalar { IsNull: false } s ? s.Text : null;
}

/// <summary>Why a YAML file could not be read; the message is for people and never names a server path.</summary>
public sealed class YamlFileException : Exception
{
    public YamlFileException() : base("The YAML could not be read.") { }

    public YamlFileException(string message) : base(message) { }

    public YamlFileException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Reads YAML that clients uploaded (MLmodel, conda.yaml, python_env.yaml) into plain nodes with YamlDotNet's event
/// parser: no deserializer, so no tag can name a type to create (<c>!!python/object</c> is only text here). Limits
/// hold for any input: the caller bounds the text's size, the nesting depth is bounded, and so is the number of
/// nodes counted as if every alias were expanded, so an alias bomb ("billion laughs") is refused after reading its
/// few lines instead of growing. Only the first document of a stream is read.
/// </summary>
public static class SafeYaml
{
    public const int DefaultMaxDepth = 64;

    public const int DefaultMaxNodes = 20_000;

    private static readonly System.Buffers.SearchValues<char> DigitsAndUnderscore = System.Buffers.SearchValues.Create("0123456789_");

    public static YamlNode? Parse(string text, int maxDepth = DefaultMaxDepth, int maxNodes = DefaultMaxNodes)
    {
        var reader = new Reader(new Parser(new StringReader(text)), maxDepth, maxNodes);
        try
        {
            return reader.ReadDocument();
        }
        catch (YamlException e)
        {
            // YamlDotNet's messages name a line and column of the text, nothing of the server.
            throw new YamlFileException($"not valid YAML: {e.Message}", e);
        }
    }

    /// <summary>
    /// A node as JSON, scalars resolved as PyYAML's safe loader resolves them (YAML 1.1: yes/no/on/off are booleans,
    /// a float needs a dot): MLflow reads its files that way. Infinities and NaN become the strings the server
    /// writes for them. The node budget of <see cref="Parse"/> bounds the result, aliases included.
    /// </summary>
    public static JsonNode? ToJson(YamlNode? node) => node switch
    {
        null => null,
        YamlScalar s => Scalar(s),
        YamlList l => new JsonArray([.. l.Items.Select(ToJson)]),
        YamlMap m => ToJson(m),
        _ => null,
    };

    public static JsonObject ToJson(YamlMap map)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in map.Entries)
        {
            obj[key] = ToJson(value);
        }
        return obj;
    }

    private static JsonValue? Scalar(YamlScalar s)
    {
        if (!s.Plain)
        {
            return JsonValue.Create(s.Text);
        }
        var t = s.Text;
        if (s.IsNull)
        {
            return null;
        }
        switch (t)
        {
            case "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "y" or "Y":
                return t is "y" or "Y" ? JsonValue.Create(t) : JsonValue.Create(true);
            case "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF":
                return JsonValue.Create(false);
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                return JsonValue.Create("Infinity");
            case "-.inf" or "-.Inf" or "-.INF":
                return JsonValue.Create("-Infinity");
            case ".nan" or ".NaN" or ".NAN":
                return JsonValue.Create("NaN");
        }
        var digits = t.Replace("_", "", StringComparison.Ordinal);
        if (IsDecimalInteger(t) && long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }
        if (IsPyYamlFloat(t) && double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(t);
    }

    // [-+]?(0|[1-9][0-9_]*)
    private static bool IsDecimalInteger(string t)
    {
        var i = t.Length > 0 && t[0] is '+' or '-' ? 1 : 0;
        if (i >= t.Length)
        {
            return false;
        }
        if (t[i] == '0')
        {
            return i == t.Length - 1;
        }
        return t.AsSpan(i).IndexOfAnyExcept(DigitsAndUnderscore) < 0 && char.IsAsciiDigit(t[i]);
    }

    // PyYAML: [-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?  (a float needs its dot; "1e3" is text)
    private static bool IsPyYamlFloat(string t)
    {
        var i = t.Length > 0 && t[0] is '+' or '-' ? 1 : 0;
        var start = i;
        while (i < t.Length && (char.IsAsciiDigit(t[i]) || (t[i] == '_' && i > start)))
        {
            i++;
        }
        if (i >= t.Length || t[i] != '.')
        {
            return false;
        }
        i++;
        while (i < t.Length && (char.IsAsciiDigit(t[i]) || t[i] == '_'))
        {
            i++;
        }
        if (i == t.Length)
        {
            return t.Length - start > 1;
        }
        if (t[i] is not ('e' or 'E'))
        {
            return false;
        }
        i++;
        if (i >= t.Length || t[i] is not ('+' or '-'))
        {
            return false;
        }
        i++;
        var exponent = i;
        while (i < t.Length && char.IsAsciiDigit(t[i]))
        {
            i++;
        }
        return i == t.Length && i > exponent;
    }

    private sealed class Reader(IParser parser, int maxDepth, int maxNodes)
    {
        private readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
        private int _nodes;

        public YamlNode? ReadDocument()
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }
            parser.Consume<DocumentStart>();
            var root = ReadNode(depth: 1);
            // Nothing after the first document is read: MLflow writes one, and reading on would only cost.
            return root;
        }

        private YamlNode ReadNode(int depth)
        {
            if (depth > maxDepth)
            {
                throw new YamlFileException($"nested deeper than {maxDepth} levels.");
            }
            var ev = parser.Consume<ParsingEvent>();
            switch (ev)
            {
                case AnchorAlias alias:
                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        throw new YamlFileException($"the alias '*{alias.Value.Value}' names no anchor before it.");
                    }
                    // An alias stands for a copy of its anchor's whole tree: count it so, and refuse an alias bomb here.
                    Count(target.Weight);
                    return target;
                case Scalar scalar:
                    Count(1);
                    return Anchor(scalar, new YamlScalar(scalar.Value, scalar.Style == ScalarStyle.Plain));
                case SequenceStart:
                {
                    Count(1);
                    var before = _nodes;
                    var items = new List<YamlNode>();
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        items.Add(ReadNode(depth + 1));
                    }
                    return Anchor((NodeEvent)ev, new YamlList(items) { Weight = 1 + _nodes - before });
                }
                case MappingStart:
                {
                    Count(1);
                    var before = _nodes;
                    var entries = new List<KeyValuePair<string, YamlNode>>();
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        var key = ReadNode(depth + 1);
                        if (key is not YamlScalar k)
                        {
                            throw new YamlFileException("a mapping key is a list or a mapping; only text keys are read.");
                        }
                        var value = ReadNode(depth + 1);
                        entries.RemoveAll(e => e.Key == k.Text);
                        entries.Add(new(k.Text, value));
                    }
                    return Anchor((NodeEvent)ev, new YamlMap(entries) { Weight = 1 + _nodes - before });
                }
                default:
                    throw new YamlFileException("an unexpected YAML event.");
            }
        }

        private YamlNode Anchor(NodeEvent ev, YamlNode node)
        {
            if (!ev.Anchor.IsEmpty)
            {
                _anchors[ev.Anchor.Value] = node;
            }
            return node;
        }

        private void Count(int weight)
        {
            _nodes += weight;
            if (_nodes > maxNodes || _nodes < 0)
            {
                throw new YamlFileException($"more than {maxNodes} values once aliases are expanded (an alias bomb, or a file too large to show).");
            }
        }
    }
}
