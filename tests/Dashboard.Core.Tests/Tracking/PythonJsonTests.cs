using System.Text.Json.Nodes;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Tracking;

/// <summary>JSON written as Python's json.dumps writes it (the values below are what CPython 3.11 prints).</summary>
public class PythonJsonTests
{
    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(123.456, "123.456")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e20, "1e+20")]
    [InlineData(12345678901234567890.0, "1.2345678901234567e+19")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Prints_floats_as_python_repr_does(double value, string expected) =>
        PythonJson.FloatRepr(value).ShouldBe(expected);

    [Fact]
    public void Keeps_integers_and_reprints_floats_with_pythons_separators_and_escapes()
    {
        var node = JsonNode.Parse("""{"a": [1, 1.50, -0, 1E3, 123456789012345678901234567890], "é": "\"\\\n\u0001\u007f中😀/"}""");

        PythonJson.Serialize(node).ShouldBe(
            """{"a": [1, 1.5, 0, 1000.0, 123456789012345678901234567890], "\u00e9": "\"\\\n\u0001""" + "\u007f" + """\u4e2d\ud83d\ude00/"}""");
    }
}
