using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Dashboard.Tracking;

/// <summary>
/// A run's params as text to paste into a training script: a Python dict literal or a YAML mapping. MLflow stores every
/// param as a string; a value is written as a number where it reads as one (so <c>lr</c> comes back as a float) and as a
/// quoted string otherwise, so that pasting never changes what the value means or breaks the file.
/// </summary>
public static partial class ParamsExport
{
    /// <summary>
    /// <c>{"lr": 0.001, "optimizer": "adam"}</c>. Numbers keep the text that was logged when it is a Python literal
    /// (<c>1e-3</c> stays <c>1e-3</c>); an integer with a leading zero (<c>007</c>, a syntax error in Python 3), NaN and
    /// infinities stay strings. Strings are double-quoted with Python's escapes; non-ASCII letters stay as they are
    /// (Python 3 source is UTF-8).
    /// </summary>
    public static string ToPythonDict(IEnumerable<KeyValuePair<string, string>> values)
    {
        var text = new StringBuilder("{");
        var first = true;
        foreach (var (key, value) in values)
        {
            text.Append(first ? "" : ", ").Append(PythonString(key)).Append(": ")
                .Append(PythonNumber().IsMatch(value) ? value : PythonString(value));
            first = false;
        }
        return text.Append('}').ToString();
    }

    /// <summary>
    /// One <c>key: value</c> line per param. A number is written plain in a form that YAML 1.1 (PyYAML) and YAML 1.2
    /// both read as the same number: integers without leading zeros as they are, floats with a dot and a signed exponent
    /// (<c>1e-3</c> becomes <c>0.001</c>, <c>1e-10</c> becomes <c>1.0e-10</c>: PyYAML reads <c>1e-3</c> as a string).
    /// Any other text is written plain only when it cannot be read as anything but that string (letters, digits and
    /// <c>_ . / -</c>, not one of YAML's booleans or nulls such as yes, no, on, off, null, ~); otherwise double-quoted.
    /// </summary>
    public static string ToYaml(IEnumerable<KeyValuePair<string, string>> values)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in values)
        {
            text.Append(YamlString(key)).Append(": ").Append(YamlScalar(value)).Append('\n');
        }
        return text.ToString();
    }

    private static string YamlScalar(string value)
    {
        if (YamlInteger().IsMatch(value))
        {
            return value;
        }
        if (DecimalNumber().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number))
        {
            return YamlFloat(number);
        }
        return YamlString(value);
    }

    /// <summary>The shortest text that reads back as <paramref name="number"/>, with a dot in the mantissa and a signed exponent.</summary>
    private static string YamlFloat(double number)
    {
        var text = number.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant();
        var e = text.IndexOf('e', StringComparison.Ordinal);
        var mantissa = e < 0 ? text : text[..e];
        var exponent = e < 0 ? "" : text[(e + 1)..];
        if (!mantissa.Contains('.', StringComparison.Ordinal))
        {
            mantissa += ".0";
        }
        if (exponent.Length > 0 && exponent[0] is not ('-' or '+'))
        {
            exponent = "+" + exponent;
        }
        return exponent.Length == 0 ? mantissa : mantissa + "e" + exponent;
    }

    private static string YamlString(string value) =>
        YamlPlain().IsMatch(value) && !YamlReserved.Contains(value) ? value : Quoted(value, yaml: true);

    private static string PythonString(string value) => Quoted(value, yaml: false);

    /// <summary>
    /// A double-quoted string: backslash, quote and control characters escaped (both languages read <c>\n</c>, <c>\t</c>,
    /// <c>\r</c>, <c>\xNN</c> and <c>\uNNNN</c> alike); YAML also gets the line and paragraph separators and the BOM
    /// escaped, which its parsers treat as line breaks or drop; a lone surrogate half becomes <c>\uNNNN</c>.
    /// </summary>
    private static string Quoted(string value, bool yaml)
    {
        var text = new StringBuilder("\"", value.Length + 2);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '"': text.Append("\\\""); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        text.Append(c).Append(value[++i]);
                    }
                    else if (c < 0x20 || c == 0x7F)
                    {
                        text.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    // YAML parsers refuse C1 controls and U+FFFE/FFFF even inside quotes (PyYAML's reader checks the stream).
                    else if (char.IsSurrogate(c) || (yaml && (c is >= '\u0080' and <= '\u009F' or '\u2028' or '\u2029' or '\uFEFF' or '\uFFFE' or '\uFFFF')))
                    {
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }
                    break;
            }
        }
        return text.Append('"').ToString();
    }

    /// <summary>Words that YAML 1.1 (PyYAML, Ruby) or 1.2 read as a boolean, a null or a special float when plain.</summary>
    private static readonly HashSet<string> YamlReserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    };

    /// <summary>A Python int (no leading zero: <c>007</c> is a syntax error) or float literal, optionally negative.</summary>
    [GeneratedRegex(@"^-?(?:(?:0|[1-9][0-9]*)|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex PythonNumber();

    /// <summary>An integer YAML 1.1 and 1.2 both read as decimal: a leading zero makes it octal in 1.1, so <c>007</c> is quoted.</summary>
    [GeneratedRegex(@"^-?(?:0|[1-9][0-9]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex YamlInteger();

    /// <summary>A decimal number (integers are matched first), without a leading zero before the dot but a single one.</summary>
    [GeneratedRegex(@"^-?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalNumber();

    /// <summary>Text a YAML parser reads back as this very string when plain: starts with a letter or underscore.</summary>
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_./-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex YamlPlain();
}
