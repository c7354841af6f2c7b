using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Dashboard.Api.Mlflow;

/// <summary>
/// The JSON of MLflow's wire (protobuf's JSON mapping as MLflow's server writes it): snake_case names, unset
/// fields and empty lists omitted, int64 as numbers, NaN and infinities as the strings "NaN", "Infinity" and
/// "-Infinity". Reading is strict: a value of the wrong JSON type is a 400, never coerced, except the forms
/// protobuf's mapping itself defines (an int64 may be a decimal string; the MLflow Java client sends those).
/// </summary>
public static class MlflowJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.Strict,
            PropertyNameCaseInsensitive = false,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
            MaxDepth = 32,
            // Served as application/json with nosniff: no HTML context, so quotes and apostrophes stay readable.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { OmitEmptyCollections } },
        };
        options.Converters.Add(new StrictStringConverter());
        options.Converters.Add(new Int64Converter());
        options.Converters.Add(new Int32Converter());
        options.Converters.Add(new DoubleConverter());
        options.Converters.Add(new BooleanConverter());
        options.MakeReadOnly(populateMissingResolver: false);
        return options;
    }

    // protobuf's JSON printer omits empty repeated fields; clients treat a missing list as empty.
    private static void OmitEmptyCollections(JsonTypeInfo type)
    {
        foreach (var property in type.Properties)
        {
            if (property.PropertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(property.PropertyType))
            {
                property.ShouldSerialize = static (_, value) => value is not ICollection { Count: 0 };
            }
        }
    }
}

/// <summary>A value the wire does not take (of the wrong JSON type, say); the binder names the field it happened in.</summary>
public sealed class WireTypeException(string expected) : JsonException(expected);

internal sealed class StrictStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                var value = reader.GetString()!;
                // PostgreSQL cannot store U+0000 in text (a 500 there, a silent difference elsewhere): refused for all.
                return value.Contains('\0', StringComparison.Ordinal)
                    ? throw new WireTypeException("a string may not contain the NUL character (U+0000).")
                    : value;
            case JsonTokenType.Null:
                return null;
            default:
                throw new WireTypeException("expected a string.");
        }
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>
/// An enum field of service.proto. protobuf's JSON mapping writes the value's name and its parsers take the number
/// too (<c>"ALL"</c> or <c>3</c>); both are read as text, for the endpoint to map.
/// </summary>
public sealed class ProtoEnumConverter : JsonConverter<string>
{
    private static readonly StrictStringConverter Names = new();

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number when reader.TryGetInt32(out var number) => number.ToString(CultureInfo.InvariantCulture),
            JsonTokenType.String or JsonTokenType.Null => Names.Read(ref reader, typeToConvert, options),
            _ => throw new WireTypeException("expected the name or the number of an enum value."),
        };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

internal sealed class Int64Converter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n))
        {
            return n;
        }
        if (reader.TokenType == JsonTokenType.String
            && long.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s))
        {
            return s;
        }
        throw new WireTypeException("expected a 64-bit integer.");
    }

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

internal sealed class Int32Converter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n))
        {
            return n;
        }
        if (reader.TokenType == JsonTokenType.String
            && int.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s))
        {
            return s;
        }
        throw new WireTypeException("expected a 32-bit integer.");
    }

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

internal sealed class DoubleConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var n))
        {
            return n;
        }
        if (reader.TokenType == JsonTokenType.String)
        {
            switch (reader.GetString())
            {
                case "NaN": return double.NaN;
                case "Infinity": return double.PositiveInfinity;
                case "-Infinity": return double.NegativeInfinity;
            }
        }
        throw new WireTypeException("expected a number (or \"NaN\", \"Infinity\", \"-Infinity\").");
    }

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }
}

internal sealed class BooleanConverter : JsonConverter<bool>
{
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => throw new WireTypeException("expected true or false."),
        };

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
}
