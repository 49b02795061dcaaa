using System;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis.Text;

namespace RnaLm.Generator.Json;

// The immutable tree produced by JsonReader. Every node knows the TextSpan of its token(s) in the
// source text (strings include their quotes, objects and arrays their brackets), so the spec parser
// can point a diagnostic at exactly the offending token. The tree is the intermediate representation
// of a spec: JSON files and attribute specs (Attributes/AttributeSpecReader) both produce it, and
// `extends` merges trees (Spec/SpecResolver). It flows through the pipeline inside SpecDocument, so
// it compares by value: kind, value, raw text and every span (a whitespace edit is a change here;
// the ModelSpec built from it stays equal).

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
internal abstract class JsonNode : System.IEquatable<JsonNode>
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

    /// <summary>The same value with every span (names and braces included) replaced by <paramref name="span"/>.</summary>
    public abstract JsonNode Relocate(TextSpan span);

    public bool Equals(JsonNode? other) =>
        ReferenceEquals(this, other) || (other is not null && other.Kind == Kind && other.Span == Span && EqualsCore(other));

    public override bool Equals(object? obj) => obj is JsonNode other && Equals(other);

    public override int GetHashCode() => ((int)Kind * 397) ^ Span.GetHashCode();

    /// <summary>Compares the kind-specific content (kind and span are already equal).</summary>
    protected abstract bool EqualsCore(JsonNode other);
}

/// <summary>One "name": value pair of an object, in source order.</summary>
internal sealed class JsonProperty : System.IEquatable<JsonProperty>
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

    public bool Equals(JsonProperty? other) =>
        ReferenceEquals(this, other) || (other is not null && Name == other.Name && NameSpan == other.NameSpan && Value.Equals(other.Value));

    public override bool Equals(object? obj) => obj is JsonProperty other && Equals(other);

    public override int GetHashCode() => (Name.GetHashCode() * 397) ^ NameSpan.GetHashCode();
}

internal sealed class JsonObject : JsonNode
{
    public JsonObject(TextSpan span, ImmutableArray<JsonProperty> properties, TextSpan? openBraceSpan = null)
        : base(JsonNodeKind.Object, span)
    {
        Properties = properties;
        OpenBraceSpan = openBraceSpan ?? new TextSpan(span.Start, Math.Min(1, span.Length));
    }

    /// <summary>Properties in source order; names are unique (the reader rejects duplicates).</summary>
    public ImmutableArray<JsonProperty> Properties { get; }

    /// <summary>
    /// Where "required field missing" diagnostics point: the opening brace in a JSON file, the attribute's name
    /// for an attribute spec, the <c>extends</c> value for an object inherited from a base spec.
    /// </summary>
    public TextSpan OpenBraceSpan { get; }

    public override JsonNode Relocate(TextSpan span)
    {
        var builder = ImmutableArray.CreateBuilder<JsonProperty>(Properties.Length);
        foreach (var p in Properties) builder.Add(new JsonProperty(p.Name, span, p.Value.Relocate(span)));
        return new JsonObject(span, builder.MoveToImmutable(), span);
    }

    protected override bool EqualsCore(JsonNode other)
    {
        var o = (JsonObject)other;
        if (o.OpenBraceSpan != OpenBraceSpan || o.Properties.Length != Properties.Length) return false;
        for (int i = 0; i < Properties.Length; i++)
        {
            if (!Properties[i].Equals(o.Properties[i])) return false;
        }
        return true;
    }

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

    public override JsonNode Relocate(TextSpan span)
    {
        var builder = ImmutableArray.CreateBuilder<JsonNode>(Items.Length);
        foreach (var item in Items) builder.Add(item.Relocate(span));
        return new JsonArray(span, builder.MoveToImmutable());
    }

    protected override bool EqualsCore(JsonNode other)
    {
        var o = (JsonArray)other;
        if (o.Items.Length != Items.Length) return false;
        for (int i = 0; i < Items.Length; i++)
        {
            if (!Items[i].Equals(o.Items[i])) return false;
        }
        return true;
    }
}

internal sealed class JsonString : JsonNode
{
    public JsonString(TextSpan span, string value, string rawText)
        : base(JsonNodeKind.String, span)
    {
        Value = value;
        RawText = rawText;
    }

    /// <summary>The unescaped value.</summary>
    public string Value { get; }

    /// <summary>The token as written, quotes and escapes included (for messages).</summary>
    public string RawText { get; }

    public override JsonNode Relocate(TextSpan span) => new JsonString(span, Value, RawText);

    protected override bool EqualsCore(JsonNode other) => ((JsonString)other).Value == Value && ((JsonString)other).RawText == RawText;

    /// <summary>A JSON string token for <paramref name="value"/> (quoted, with JSON escapes).</summary>
    public static string Quote(string value)
    {
        var builder = new System.Text.StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < ' ') builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        return builder.Append('"').ToString();
    }
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

    public override JsonNode Relocate(TextSpan span) => new JsonNumber(span, RawText, Value);

    protected override bool EqualsCore(JsonNode other) => ((JsonNumber)other).RawText == RawText;

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

    public override JsonNode Relocate(TextSpan span) => new JsonBoolean(span, Value);

    protected override bool EqualsCore(JsonNode other) => true;
}

internal sealed class JsonNull : JsonNode
{
    public JsonNull(TextSpan span)
        : base(JsonNodeKind.Null, span)
    {
    }

    public override JsonNode Relocate(TextSpan span) => new JsonNull(span);

    protected override bool EqualsCore(JsonNode other) => true;
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
