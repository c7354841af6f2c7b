using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Tracking;

public class ParamsExportTests
{
    private static KeyValuePair<string, string>[] One(string key, string value) => [new(key, value)];

    [Theory]
    [InlineData("0.001", "0.001")]
    [InlineData("1e-3", "1e-3")]
    [InlineData("-2.5E+10", "-2.5E+10")]
    [InlineData("42", "42")]
    [InlineData("0", "0")]
    [InlineData("1.", "1.")]
    [InlineData(".5", ".5")]
    [InlineData("007", "\"007\"")]
    [InlineData("nan", "\"nan\"")]
    [InlineData("inf", "\"inf\"")]
    [InlineData("1_000", "\"1_000\"")]
    [InlineData("+1", "\"+1\"")]
    [InlineData("0x10", "\"0x10\"")]
    [InlineData("True", "\"True\"")]
    [InlineData("None", "\"None\"")]
    [InlineData("adam", "\"adam\"")]
    [InlineData("", "\"\"")]
    public void Writes_numbers_as_python_numbers_and_anything_else_as_a_string(string value, string expected) =>
        ParamsExport.ToPythonDict(One("p", value)).ShouldBe($"{{\"p\": {expected}}}");

    [Fact]
    public void Escapes_quotes_backslashes_newlines_and_control_characters_in_python_strings_and_keeps_unicode()
    {
        var dict = ParamsExport.ToPythonDict([
            new("lr", "0.001"),
            new("say", "he said \"hi\"\\n it's"),
            new("lines", "a\nb\r\tc\u0001\u007f"),
            new("名前", "ünïcödé 実験 🧪"),
            new("lone", "\ud800x"),
        ]);

        dict.ShouldBe("{\"lr\": 0.001, \"say\": \"he said \\\"hi\\\"\\\\n it's\", \"lines\": \"a\\nb\\r\\tc\\x01\\x7f\", " +
                      "\"名前\": \"ünïcödé 実験 🧪\", \"lone\": \"\\ud800x\"}");
    }

    [Fact]
    public void An_empty_set_of_params_is_an_empty_dict_and_an_empty_yaml_document() =>
        (ParamsExport.ToPythonDict([]), ParamsExport.ToYaml([])).ShouldBe(("{}", ""));

    [Theory]
    [InlineData("42", "42")]
    [InlineData("-7", "-7")]
    [InlineData("0.001", "0.001")]
    [InlineData("1e-3", "0.001")]
    [InlineData("1e-10", "1.0e-10")]
    [InlineData("2.5E+20", "2.5e+20")]
    [InlineData("3.0", "3.0")]
    [InlineData("1.", "1.0")]
    [InlineData("007", "\"007\"")]
    [InlineData("0o17", "\"0o17\"")]
    [InlineData("yes", "\"yes\"")]
    [InlineData("No", "\"No\"")]
    [InlineData("on", "\"on\"")]
    [InlineData("OFF", "\"OFF\"")]
    [InlineData("y", "\"y\"")]
    [InlineData("true", "\"true\"")]
    [InlineData("null", "\"null\"")]
    [InlineData("~", "\"~\"")]
    [InlineData("NaN", "\"NaN\"")]
    [InlineData(".inf", "\".inf\"")]
    [InlineData("1e999", "\"1e999\"")]
    [InlineData("12:30", "\"12:30\"")]
    [InlineData("2026-01-01", "\"2026-01-01\"")]
    [InlineData("- item", "\"- item\"")]
    [InlineData("a: b", "\"a: b\"")]
    [InlineData("#comment", "\"#comment\"")]
    [InlineData("&anchor", "\"&anchor\"")]
    [InlineData("", "\"\"")]
    [InlineData(" padded ", "\" padded \"")]
    [InlineData("adam", "adam")]
    [InlineData("resnet50", "resnet50")]
    [InlineData("s3/bucket/path.ckpt", "s3/bucket/path.ckpt")]
    public void Writes_yaml_numbers_plain_in_a_form_yaml_1_1_and_1_2_agree_on_and_quotes_every_other_doubtful_string(string value, string expected) =>
        ParamsExport.ToYaml(One("p", value)).ShouldBe($"p: {expected}\n");

    [Fact]
    public void Quotes_yaml_keys_and_values_with_quotes_newlines_unicode_separators_and_c1_controls()
    {
        var yaml = ParamsExport.ToYaml([
            new("lr", "0.001"),
            new("a key: with colon", "it's \"quoted\""),
            new("note", "line1\nline2\\"),
            new("名前", "実験 🧪"),
            new("sep", "a\u2028b\u0085c\ufeff"),
        ]);

        yaml.ShouldBe("lr: 0.001\n\"a key: with colon\": \"it's \\\"quoted\\\"\"\nnote: \"line1\\nline2\\\\\"\n" +
                      "\"名前\": \"実験 🧪\"\nsep: \"a\\u2028b\\u0085c\\ufeff\"\n");
    }
}
