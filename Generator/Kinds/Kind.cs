using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Json;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// One way to fill a slot of the model (a position kind, a feed-forward kind, ...). A kind is one type that owns its JSON
/// schema (<see cref="Fields"/>), its rules (<see cref="Check"/>), its template (<c>Templates/&lt;slot&gt;/&lt;name&gt;.sbncs</c>)
/// and, in its slot's base class, its parameter and FLOP formulas. <see cref="KindRegistry"/> lists every kind.
/// docs/extending.md explains how to add one.
/// </summary>
internal abstract class Kind
{
    /// <summary>The JSON value of <c>"kind"</c>, e.g. <c>"gated"</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One sentence for docs/spec.md and diagnostics.</summary>
    public abstract string Summary { get; }

    /// <summary>The fields of the kind's JSON object besides <c>"kind"</c>, in documentation order.</summary>
    public virtual ImmutableArray<FieldDef> Fields => ImmutableArray<FieldDef>.Empty;

    /// <summary>The slot this kind fills (set by the registry).</summary>
    public Slot Slot { get; internal set; } = null!;

    /// <summary>The template of this kind, relative to Templates/.</summary>
    public string TemplatePath => Slot.TemplateFolder + "/" + Name + ".sbncs";

    public FieldDef? Field(string name)
    {
        foreach (var f in Fields)
        {
            if (f.Name == name) return f;
        }
        return null;
    }

    /// <summary>
    /// Rules that involve the kind's values and the model's configuration, run on the family and on every variant.
    /// Report through <paramref name="rules"/>; values may be missing (already reported) when a field was invalid.
    /// </summary>
    public virtual void Check(KindRules rules, KindSpec spec)
    {
    }

    /// <summary>
    /// Extra template variables computed from the kind's values (the field values themselves are always available as
    /// <c>kind.&lt;field&gt;</c>).
    /// </summary>
    public virtual IEnumerable<(string Name, object? Value)> TemplateValues(KindSpec spec, KindContext context) =>
        Enumerable.Empty<(string, object?)>();

    public override string ToString() => Slot.Path + ":" + Name;
}

/// <summary>What a kind's formulas and template values may look at besides its own values.</summary>
internal sealed class KindContext
{
    public KindContext(Spec.ModelSpec model) => Model = model;

    public Spec.ModelSpec Model { get; }
}

/// <summary>A named place in the model that one kind fills (<c>"position"</c>, <c>"feed_forward"</c>, ...).</summary>
internal sealed class Slot
{
    public Slot(string path, string templateFolder, string summary, string? defaultKind, ImmutableArray<Kind> kinds)
    {
        Path = path;
        TemplateFolder = templateFolder;
        Summary = summary;
        DefaultKind = defaultKind;
        Kinds = kinds;
        foreach (var kind in kinds) kind.Slot = this;
    }

    /// <summary>The JSON path of the slot's object, e.g. "feed_forward" or "tokenizer.segmentation".</summary>
    public string Path { get; }

    public string TemplateFolder { get; }

    public string Summary { get; }

    /// <summary>The kind used when the slot is absent or its object has no <c>"kind"</c>; null = "kind" is required.</summary>
    public string? DefaultKind { get; }

    public ImmutableArray<Kind> Kinds { get; }

    public Kind? Find(string name)
    {
        foreach (var kind in Kinds)
        {
            if (kind.Name == name) return kind;
        }
        return null;
    }

    public IEnumerable<string> KindNames => Kinds.Select(k => k.Name);
}

/// <summary>One field of a kind's JSON object.</summary>
/// <param name="Name">The JSON name, e.g. "interleaved".</param>
/// <param name="Type">How it is read and validated.</param>
/// <param name="Default">The value when absent (null with <paramref name="Required"/>, or for nullable fields).</param>
/// <param name="Doc">One sentence for docs/spec.md.</param>
/// <param name="Required">The field must be written.</param>
/// <param name="ConfigKey">
/// The <c>config.json</c> key whose default this field gives; such a field is configuration, so variants may
/// override it. Null for architecture fields.
/// </param>
internal sealed record FieldDef(string Name, FieldType Type, object? Default, string Doc, bool Required = false, string? ConfigKey = null)
{
    public bool Overridable => ConfigKey is not null;

    /// <summary>The attribute-spec property of this field: PascalCase of <see cref="Name"/>.</summary>
    public string AttributeProperty => Pascal(Name);

    public static string Pascal(string snake)
    {
        var parts = snake.Split('_');
        var text = new System.Text.StringBuilder(snake.Length);
        foreach (var part in parts)
        {
            if (part.Length == 0) continue;
            text.Append(char.ToUpperInvariant(part[0])).Append(part.Substring(1));
        }
        return text.ToString();
    }
}

/// <summary>How a kind field's JSON value is read: validation, the value it yields, and how docs describe it.</summary>
internal abstract class FieldType
{
    /// <summary>The type as docs/spec.md names it, e.g. "integer ≥ 1".</summary>
    public abstract string Describe { get; }

    /// <summary>Reads the value (bool, int, double, string or null), or reports a diagnostic and returns <see cref="Invalid"/>.</summary>
    public abstract object? Read(JsonNode node, string path, IValueReader reader);

    /// <summary>Returned by <see cref="Read"/> after reporting a problem.</summary>
    public static readonly object Invalid = new();

    public static readonly FieldType Bool = new BoolType();

    public static FieldType Int(int min) => new IntType(min);

    public static readonly FieldType PositiveNumber = new NumberType(positive: true, eps: false);

    public static readonly FieldType Number = new NumberType(positive: false, eps: false);

    public static readonly FieldType Eps = new NumberType(positive: true, eps: true);

    public static FieldType Enum(params string[] values) => new EnumType(ImmutableArray.Create(values));

    public static readonly FieldType Activation = new EnumType(Spec.SpecSchema.Activations);

    /// <summary>A plain identifier (a state-dict key segment) or null.</summary>
    public static readonly FieldType KeyOrNull = new KeyType();

    /// <summary>A positive epsilon, or <c>"layer_norm_eps"</c> (null: follow the model's).</summary>
    public static readonly FieldType EpsOrModel = new EpsOrModelType();

    /// <summary>An integer ≥ <paramref name="min"/> or one of <paramref name="names"/>.</summary>
    public static FieldType IntOr(int min, params string[] names) => new IntOrNameType(min, ImmutableArray.Create(names));

    private sealed class BoolType : FieldType
    {
        public override string Describe => "boolean";

        public override object? Read(JsonNode node, string path, IValueReader reader) => reader.Bool(node, path) is bool b ? b : Invalid;
    }

    private sealed class IntType : FieldType
    {
        private readonly int _min;

        public IntType(int min) => _min = min;

        public override string Describe => "integer ≥ " + _min.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public override object? Read(JsonNode node, string path, IValueReader reader) => reader.Int(node, path, _min) is int i ? i : Invalid;
    }

    private sealed class NumberType : FieldType
    {
        private readonly bool _positive;
        private readonly bool _eps;

        public NumberType(bool positive, bool eps)
        {
            _positive = positive;
            _eps = eps;
        }

        public override string Describe => _positive ? "number > 0" : "number";

        public override object? Read(JsonNode node, string path, IValueReader reader) =>
            (_eps ? reader.Eps(node, path) : reader.Number(node, path, _positive)) is double d ? d : Invalid;
    }

    private sealed class EnumType : FieldType
    {
        private readonly ImmutableArray<string> _values;

        public EnumType(ImmutableArray<string> values) => _values = values;

        public override string Describe => string.Join(" \\| ", _values.Select(v => "`\"" + v + "\"`"));

        public override object? Read(JsonNode node, string path, IValueReader reader) => reader.Enum(node, path, _values) ?? Invalid;
    }

    private sealed class KeyType : FieldType
    {
        public override string Describe => "identifier or `null`";

        public override object? Read(JsonNode node, string path, IValueReader reader)
        {
            if (node is JsonNull) return null;
            if (node is JsonString s && Spec.NameRules.IsPlainIdentifier(s.Value)) return s.Value;
            if (node is JsonString bad)
            {
                reader.Report(Diagnostics.DiagnosticDescriptors.InvalidIdentifier, node.Span, path, bad.Value, Spec.NameRules.PrefixRule);
                return Invalid;
            }
            reader.Report(Diagnostics.DiagnosticDescriptors.WrongValueType, node.Span, path, "a key name or null", node.Describe());
            return Invalid;
        }
    }

    private sealed class EpsOrModelType : FieldType
    {
        public override string Describe => "number > 0 or `\"layer_norm_eps\"`";

        public override object? Read(JsonNode node, string path, IValueReader reader)
        {
            if (node is JsonString { Value: "layer_norm_eps" }) return null;
            if (node is JsonString other)
            {
                reader.Report(Diagnostics.DiagnosticDescriptors.InvalidEnumValue, node.Span, path, other.RawText, "a positive number or \"layer_norm_eps\"");
                return Invalid;
            }
            return reader.Eps(node, path) is double d ? d : Invalid;
        }
    }

    private sealed class IntOrNameType : FieldType
    {
        private readonly int _min;
        private readonly ImmutableArray<string> _names;

        public IntOrNameType(int min, ImmutableArray<string> names)
        {
            _min = min;
            _names = names;
        }

        public override string Describe => "integer ≥ " + _min.ToString(System.Globalization.CultureInfo.InvariantCulture) + " or " + string.Join(" \\| ", _names.Select(n => "`\"" + n + "\"`"));

        public override object? Read(JsonNode node, string path, IValueReader reader)
        {
            if (node is JsonString s)
            {
                if (_names.Contains(s.Value)) return s.Value;
                reader.Report(Diagnostics.DiagnosticDescriptors.InvalidEnumValue, node.Span, path, s.RawText,
                    "an integer or " + string.Join(", ", _names.Select(n => "\"" + n + "\"")));
                return Invalid;
            }
            return reader.Int(node, path, _min) is int i ? i : Invalid;
        }
    }
}

/// <summary>The parser's typed readers, as kinds see them: each reports its own diagnostic and returns null on a bad value.</summary>
internal interface IValueReader
{
    int? Int(JsonNode node, string path, int min);

    double? Number(JsonNode node, string path, bool positive);

    double? Eps(JsonNode node, string path);

    bool? Bool(JsonNode node, string path);

    string? Enum(JsonNode node, string path, IReadOnlyList<string> allowed);

    void Report(DiagnosticDescriptor descriptor, TextSpan span, params string[] args);
}

/// <summary>A field value of a parsed kind.</summary>
internal readonly struct KindValue : IEquatable<KindValue>
{
    public KindValue(string name, object? value)
    {
        Name = name;
        Value = value;
    }

    public string Name { get; }

    public object? Value { get; }

    public bool Equals(KindValue other) => Name == other.Name && Equals(Value, other.Value);

    public override bool Equals(object? obj) => obj is KindValue other && Equals(other);

    public override int GetHashCode() => (Name, Value).GetHashCode();
}

/// <summary>
/// A parsed slot: the kind's name and its field values (defaults filled in). Value-equatable, so pipeline steps cache.
/// </summary>
internal sealed record KindSpec(string SlotPath, string KindName, EquatableArray<KindValue> Values)
{
    public Kind Kind => KindRegistry.Slot(SlotPath).Find(KindName) ?? throw new InvalidOperationException("unknown kind " + SlotPath + ":" + KindName);

    public T Get<T>(string name)
    {
        foreach (var v in Values)
        {
            if (v.Name == name) return (T)v.Value!;
        }
        throw new InvalidOperationException("kind " + KindName + " has no value '" + name + "'");
    }

    public object? GetOrNull(string name)
    {
        foreach (var v in Values)
        {
            if (v.Name == name) return v.Value;
        }
        return null;
    }

    public bool Is(string kindName) => KindName == kindName;

    /// <summary>A copy with one value replaced (a variant's override).</summary>
    public KindSpec With(string name, object? value) =>
        this with { Values = Values.Select(v => v.Name == name ? new KindValue(name, value) : v).ToEquatableArray() };
}

/// <summary>What a kind's rules can see and how they report (<see cref="Kind.Check"/>).</summary>
internal abstract class KindRules
{
    /// <summary>True while checking a variant (rules then only report problems the variant introduced).</summary>
    public abstract bool IsVariant { get; }

    /// <summary>The resolved configuration value at a spec path ("dims.hidden", ...), or null when missing or invalid.</summary>
    public abstract object? Value(string path);

    /// <summary>Where the value at <paramref name="path"/> was written (a kind field path such as "position.dim" included).</summary>
    public abstract Spec.Origin Origin(string path);

    /// <summary>Reports a rule over several values at the first written operand (see SpecParser.ReportRule).</summary>
    public abstract void Report(DiagnosticDescriptor descriptor, string[] operandPaths, params string[] args);
}
