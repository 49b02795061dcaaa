using System.Linq;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Json;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>The strict JSON reader: tree shape, spans, numbers, strings, and the first error with its span.</summary>
public class JsonReaderTests
{
    private static JsonNode Read(string text)
    {
        var result = JsonReader.Parse(text);
        Assert.True(result.Error is null, result.Error?.Message);
        return result.Root!;
    }

    private static JsonError Fail(string text)
    {
        var result = JsonReader.Parse(text);
        Assert.Null(result.Root);
        return Assert.IsType<JsonError>(result.Error);
    }

    [Fact]
    public void ReadsObjectsInOrderWithSpansOfNamesAndValues()
    {
        const string text = "{ \"b\": 1, \"a\": [true, false, null], \"c\": { } }";
        var root = Assert.IsType<JsonObject>(Read(text));
        Assert.Equal(new TextSpan(0, text.Length), root.Span);
        Assert.Equal(new TextSpan(0, 1), root.OpenBraceSpan);
        Assert.Equal(new[] { "b", "a", "c" }, root.Properties.Select(p => p.Name));

        var b = root.Properties[0];
        Assert.Equal("\"b\"", text.Substring(b.NameSpan.Start, b.NameSpan.Length));
        Assert.Equal("1", text.Substring(b.ValueSpan.Start, b.ValueSpan.Length));

        var a = Assert.IsType<JsonArray>(root.Find("a")!.Value);
        Assert.Equal("[true, false, null]", text.Substring(a.Span.Start, a.Span.Length));
        Assert.Equal(new[] { JsonNodeKind.True, JsonNodeKind.False, JsonNodeKind.Null }, a.Items.Select(i => i.Kind));
        Assert.Equal("false", text.Substring(a.Items[1].Span.Start, a.Items[1].Span.Length));

        var c = Assert.IsType<JsonObject>(root.Find("c")!.Value);
        Assert.Empty(c.Properties);
        Assert.Null(root.Find("missing"));
    }

    [Theory]
    [InlineData("0", 0.0, true, 0)]
    [InlineData("-12", -12.0, true, -12)]
    [InlineData("512", 512.0, true, 512)]
    [InlineData("1e-12", 1e-12, false, 0)]
    [InlineData("2.5E+3", 2500.0, false, 0)]
    [InlineData("-0.125", -0.125, false, 0)]
    [InlineData("3000000000", 3e9, false, 0)]
    public void ReadsNumbersKeepingTheRawText(string raw, double value, bool isInt32, int int32)
    {
        var number = Assert.IsType<JsonNumber>(Read(raw));
        Assert.Equal(raw, number.RawText);
        Assert.Equal(value, number.Value);
        Assert.Equal(isInt32, number.TryGetInt32(out int parsed));
        Assert.Equal(int32, parsed);
    }

    [Fact]
    public void UnescapesStringsAndKeepsTheQuotesInTheSpan()
    {
        const string text = "\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u0041\"";
        var s = Assert.IsType<JsonString>(Read(text));
        Assert.Equal("a\"b\\c/d\n\téA", s.Value);
        Assert.Equal(new TextSpan(0, text.Length), s.Span);
    }

    [Fact]
    public void SkipsAByteOrderMark()
    {
        var root = Assert.IsType<JsonObject>(Read("\uFEFF{\"x\": 1}"));
        Assert.Equal(new TextSpan(1, 8), root.Span);
    }

    [Fact]
    public void ReadsFromSourceText()
    {
        var result = JsonReader.Parse(SourceText.From("[1, 2]"));
        Assert.Equal(2, Assert.IsType<JsonArray>(result.Root).Items.Length);
    }

    [Theory]
    // text, error start, error length, message
    [InlineData("", 0, 0, "the file is empty; expected a JSON value")]
    [InlineData("   ", 3, 0, "the file is empty; expected a JSON value")]
    [InlineData("{\"a\": 1,}", 8, 1, "a trailing comma before '}' is not allowed")]
    [InlineData("[1, 2,]", 6, 1, "a trailing comma before ']' is not allowed")]
    [InlineData("{\"a\": 1 \"b\": 2}", 8, 1, "expected ',' or '}' after property value")]
    [InlineData("[1 2]", 3, 1, "expected ',' or ']' after array element")]
    [InlineData("{\"a\" 1}", 5, 1, "expected ':' after property name")]
    [InlineData("{a: 1}", 1, 1, "expected a property name in double quotes")]
    [InlineData("{'a': 1}", 1, 1, "expected a property name in double quotes")]
    [InlineData("['a']", 1, 1, "strings must use double quotes")]
    [InlineData("{\"a\": \"xyz}", 6, 5, "unterminated string")]
    [InlineData("{\"a\": \"xy\nz\"}", 6, 3, "unterminated string")]
    [InlineData("\"tab\there\"", 4, 1, "control character U+0009 must be escaped in a string")]
    [InlineData("\"bad \\x escape\"", 5, 2, "invalid escape sequence '\\x'")]
    [InlineData("\"\\u12G4\"", 1, 5, "invalid \\u escape; expected four hexadecimal digits")]
    [InlineData("{\"a\": 01}", 6, 2, "invalid number '01': leading zeros are not allowed")]
    [InlineData("[-]", 1, 1, "invalid number '-': expected a digit after '-'")]
    [InlineData("[1.]", 1, 2, "invalid number '1.': expected a digit after '.'")]
    [InlineData("[1e+]", 1, 3, "invalid number '1e+': expected a digit in the exponent")]
    [InlineData("[.5]", 1, 1, "unexpected '.'; expected a value")]
    [InlineData("[+1]", 1, 1, "unexpected '+'; expected a value")]
    [InlineData("[12abc]", 1, 2, "invalid number '12': unexpected character in number")]
    [InlineData("[1e999]", 1, 5, "number '1e999' is out of range")]
    [InlineData("[NaN]", 1, 3, "'NaN' is not valid JSON; numbers must be finite")]
    [InlineData("[Infinity]", 1, 8, "'Infinity' is not valid JSON; numbers must be finite")]
    [InlineData("[-Infinity]", 1, 1, "invalid number '-': expected a digit after '-'")]
    [InlineData("[True]", 1, 4, "invalid literal 'True'; expected a value (true, false, null, a number, a string, an array or an object)")]
    [InlineData("{\"a\": 1} // note", 9, 1, "unexpected '/' after the end of the JSON value")]
    [InlineData("{\"a\": // note\n 1}", 6, 1, "comments are not allowed in JSON")]
    [InlineData("{} {}", 3, 1, "unexpected '{' after the end of the JSON value")]
    [InlineData("{\"a\": [1, 2}", 11, 1, "expected ',' or ']' after array element")]
    [InlineData("{\"a\": ", 6, 0, "unexpected end of file; expected a value")]
    [InlineData("{\"a\": 1", 7, 0, "expected ',' or '}' after property value")]
    [InlineData("{", 1, 0, "unexpected end of file; expected a property name")]
    public void ReportsTheFirstSyntaxErrorWithItsSpan(string text, int start, int length, string message)
    {
        var error = Fail(text);
        Assert.Equal(JsonErrorKind.Syntax, error.Kind);
        Assert.Equal(message, error.Message);
        Assert.Equal(new TextSpan(start, length), error.Span);
    }

    [Fact]
    public void DuplicatePropertyIsAnErrorAtTheSecondName()
    {
        const string text = "{\"x\": 1, \"y\": {\"x\": 2}, \"x\": 3}";
        var error = Fail(text);
        Assert.Equal(JsonErrorKind.DuplicateProperty, error.Kind);
        Assert.Equal("x", error.PropertyName);
        Assert.Equal("duplicate property 'x'", error.Message);
        Assert.Equal(new TextSpan(text.LastIndexOf("\"x\"", System.StringComparison.Ordinal), 3), error.Span);
    }

    [Fact]
    public void NestingIsBounded()
    {
        Assert.IsType<JsonArray>(Read(new string('[', JsonReader.MaxDepth) + new string(']', JsonReader.MaxDepth)));
        var error = Fail(new string('[', JsonReader.MaxDepth + 1) + new string(']', JsonReader.MaxDepth + 1));
        Assert.Equal(new TextSpan(JsonReader.MaxDepth, 1), error.Span);
        Assert.Equal("objects and arrays are nested deeper than 64 levels", error.Message);
    }

    [Fact]
    public void DescribesNodesForMessages()
    {
        Assert.Equal("a string", Read("\"x\"").Describe());
        Assert.Equal("a number", Read("3").Describe());
        Assert.Equal("a non-integer number", Read("3.5").Describe());
        Assert.Equal("an object", Read("{}").Describe());
        Assert.Equal("an array", Read("[]").Describe());
        Assert.Equal("null", Read("null").Describe());
        Assert.Equal("true", Read("true").Describe());
    }
}
