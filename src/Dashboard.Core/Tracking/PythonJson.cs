using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dashboard.Tracking;

/// <summary>
/// JSON text as Python's <c>json.dumps</c> writes it with its defaults: <c>", "</c> and <c>": "</c> separators,
/// every non-ASCII character escaped (<c>ensure_ascii</c>), integers as written, floats as Python's <c>repr</c>, and
/// NaN and the infinities as bare <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>. MLflow's server writes the JSON
/// that lives in tags (<c>mlflow.log-model.history</c>, <c>mlflow.modelVersions</c>) this way, and clients compare
/// and parse those values: writing them the same way keeps them byte-identical to what MLflow stores.
/// </summary>
public static class PythonJson
{
    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }
                    first = false;
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, value);
                }
                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }
                    Write(sb, array[i]);
                }
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Number:
                sb.Append(Number(value.ToJsonString()));
                break;
            default:
                sb.Append("null");
                break;
        }
    }

    /// <summary>A JSON number token as Python re-writes it after <c>json.loads</c>: an int stays an int, anything
    /// with a fraction or an exponent becomes a float.</summary>
    internal static string Number(string token)
    {
        if (token.AsSpan().IndexOfAny('.', 'e', 'E') < 0)
        {
            return BigInteger.Parse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        }
        return FloatRepr(double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Python's <c>repr(float)</c>: the shortest digits that round-trip, in positional notation when the decimal
    /// exponent is from -4 to 16 (with ".0" for whole numbers), otherwise as <c>d.ddde+XX</c>.
    /// </summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }
        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        var sign = d < 0 || (d == 0 && double.IsNegative(d)) ? "-" : "";
        if (d == 0)
        {
            return sign + "0.0";
        }
        // .NET's "R" is the shortest round-trip form too; only the layout differs from Python's.
        var r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOf('E', StringComparison.Ordinal);
        var mantissa = e < 0 ? r : r[..e];
        var exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var integral = dot < 0 ? mantissa : mantissa[..dot];
        var all = dot < 0 ? mantissa : integral + mantissa[(dot + 1)..];
        var digits = all.TrimStart('0');
        // The value is 0.<digits> x 10^point.
        var point = integral.Length + exponent - (all.Length - digits.Length);
        digits = digits.TrimEnd('0');
        string text;
        if (point > -4 && point <= 16)
        {
            if (point <= 0)
            {
                text = "0." + new string('0', -point) + digits;
            }
            else if (point < digits.Length)
            {
                text = digits[..point] + "." + digits[point..];
            }
            else
            {
                text = digits + new string('0', point - digits.Length) + ".0";
            }
        }
        else
        {
            var exp = point - 1;
            text = (digits.Length == 1 ? digits : digits[..1] + "." + digits[1..])
                + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        return sign + text;
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                default:
                    if (c < 0x20 || c > 0x7f)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }
}
