using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis.Text;

namespace RnaLm.Generator.Json;

// The immutable tree produced by JsonReader. Every node knows the TextSpan of its token(s) in the
// source text (strings include their quotes, objects and arrays their brackets), so the spec parser
// can point a diagnostic at exactly the offending token. The tree never leaves the parse step, so
// it is not value-equatable on purpose.

internal enum JsonNodeKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// <summary>A JSON value with the span of its text.</summary>
internal abstract class JsonNode
{
    protected JsonNode(JsonNodeKind kind, TextSpan span)
    {
        Kind = kind;
        Span = span;
    }

    public JsonNodeKind Kind { get; }

    /// <summary>The whole value: <c>"..."</c> with quotes, <c>{...}</c> / <c>[...]</c> with brackets.</summary>
    public TextSpan Span { get; }

    /// <summary>"an object", "a string", "true", ... for messages such as "must be an integer, but is a string".</summary>
    public virtual string Describe() => Kind switch
    {
        JsonNodeKind.Object => "an object",
        JsonNodeKind.Array => "an array",
        JsonNodeKind.String => "a string",
        JsonNodeKind.Number => "a number",
        JsonNodeKind.True => "true",
        JsonNodeKind.False => "false",
        _ => "null",
    };
}

/// <summary>One "name": value pair of an object, in source order.</summary>
internal sealed class JsonProperty
{
    public JsonProperty(string name, TextSpan nameSpan, JsonNode value)
    {
        Name = name;
        NameSpan = nameSpan;
        Value = value;
    }

    /// <summary>The unescaped name.</summary>
    public string Name { get; }

    /// <summary>The name token including its quotes.</summary>
    public TextSpan NameSpan { get; }

    public JsonNode Value { get; }

    public TextSpan ValueSpan => Value.Span;
}

internal sealed class JsonObject : JsonNode
{
    public JsonObject(TextSpan span, ImmutableArray<JsonProperty> properties)
        : base(JsonNodeKind.Object, span)
    {
        Properties = properties;
    }

    /// <summary>Properties in source order; names are unique (the reader rejects duplicates).</summary>
    public ImmutableArray<JsonProperty> Properties { get; }

    /// <summary>The opening brace: where "required field missing" diagnostics point.</summary>
    public TextSpan OpenBraceSpan => new(Span.Start, 1);

    public JsonProperty? Find(string name)
    {
        foreach (var property in Properties)
        {
            if (property.Name == name) return property;
        }
        return null;
    }
}

internal sealed class JsonArray : JsonNode
{
    public JsonArray(TextSpan span, ImmutableArray<JsonNode> items)
        : base(JsonNodeKind.Array, span)
    {
        Items = items;
    }

    public ImmutableArray<JsonNode> Items { get; }
}

internal sealed class JsonString : JsonNode
{
    public JsonString(TextSpan span, string value)
        : base(JsonNodeKind.String, span)
    {
        Value = value;
    }

    /// <summary>The unescaped value.</summary>
    public string Value { get; }
}

internal sealed class JsonNumber : JsonNode
{
    public JsonNumber(TextSpan span, string rawText, double value)
        : base(JsonNodeKind.Number, span)
    {
        RawText = rawText;
        Value = value;
    }

    /// <summary>The number exactly as written, e.g. "1e-12".</summary>
    public string RawText { get; }

    /// <summary>The value parsed with the invariant culture; always finite.</summary>
    public double Value { get; }

    /// <summary>Written without fraction or exponent ("512", "-3"), so it denotes an integer.</summary>
    public bool IsIntegerLiteral => RawText.IndexOfAny(NonIntegerChars) < 0;

    /// <summary>The value as an <see cref="int"/> when it is written as an integer that fits.</summary>
    public bool TryGetInt32(out int value)
    {
        if (IsIntegerLiteral)
        {
            return int.TryParse(RawText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        }
        value = 0;
        return false;
    }

    public override string Describe() => IsIntegerLiteral ? "a number" : "a non-integer number";

    private static readonly char[] NonIntegerChars = { '.', 'e', 'E' };
}

internal sealed class JsonBoolean : JsonNode
{
    public JsonBoolean(TextSpan span, bool value)
        : base(value ? JsonNodeKind.True : JsonNodeKind.False, span)
    {
        Value = value;
    }

    public bool Value { get; }
}

internal sealed class JsonNull : JsonNode
{
    public JsonNull(TextSpan span)
        : base(JsonNodeKind.Null, span)
    {
    }
}

internal enum JsonErrorKind
{
    /// <summary>The text is not JSON (RNA1001).</summary>
    Syntax,
    /// <summary>An object repeats a property name (RNA1002); the span is the second name.</summary>
    DuplicateProperty,
}

/// <summary>The first problem found in a document: where it is and what is wrong.</summary>
internal sealed class JsonError
{
    public JsonError(JsonErrorKind kind, TextSpan span, string message, string? propertyName = null)
    {
        Kind = kind;
        Span = span;
        Message = message;
        PropertyName = propertyName;
    }

    public JsonErrorKind Kind { get; }

    public TextSpan Span { get; }

    public string Message { get; }

    /// <summary>The repeated name for <see cref="JsonErrorKind.DuplicateProperty"/>.</summary>
    public string? PropertyName { get; }
}

/// <summary>Either a root value or the error that stopped reading.</summary>
internal sealed class JsonParseResult
{
    public JsonParseResult(JsonNode? root, JsonError? error)
    {
        Root = root;
        Error = error;
    }

    public JsonNode? Root { get; }

    public JsonError? Error { get; }
}
