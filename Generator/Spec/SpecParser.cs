using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Json;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

/// <summary>
/// Turns one spec (spec language version 2, docs/spec.md) into a validated <see cref="ModelSpec"/> plus
/// diagnostics. The work happens in four passes: JSON syntax (RNA1xxx, <see cref="ReadDocument"/>, per
/// file), then on the tree after <c>extends</c> resolution (<see cref="SpecResolver"/>): schema (RNA2xxx,
/// while reading the tree), model rules on the family and on each resolved variant (RNA3xxx), and
/// variant rules (RNA4xxx). Attribute specs enter at the second pass with a tree built from their
/// attributes (Attributes/AttributeSpecReader). The spec is null as soon as one error is reported;
/// warnings keep it. The parser never throws (except on cancellation): an unexpected exception becomes
/// RNA9001 at the start of the file.
/// </summary>
internal sealed partial class SpecParser : RnaLm.Generator.Kinds.IValueReader
{
    private readonly SpecDocument _document;
    private readonly string _path;
    private readonly CancellationToken _cancellationToken;
    private readonly List<DiagnosticInfo> _diagnostics = new();
    private readonly List<DeclaredName> _declaredNames = new();
    /// <summary>The span every inherited value carries (the <c>extends</c> value), or null without a base.</summary>
    private readonly TextSpan? _inheritedSpan;
    private bool _hasErrors;

    private SpecParser(SpecDocument document, TextSpan? inheritedSpan, CancellationToken cancellationToken)
    {
        _document = document;
        _path = document.FilePath;
        _inheritedSpan = inheritedSpan;
        _cancellationToken = cancellationToken;
    }

    /// <summary>
    /// Parses and validates one spec file on its own (an <c>extends</c> can only name the file itself, which is a
    /// cycle). Never throws, except <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="path">The file path, used in diagnostics locations and for <see cref="ModelSpec.SourceFile"/>.</param>
    internal static ParsedSpec Parse(string path, SourceText text, CancellationToken ct) => Parse(path, text, Array.Empty<SpecDocument>(), ct);

    /// <summary>Parses one spec file whose <c>extends</c> may name any of <paramref name="others"/> (for tests and tools).</summary>
    internal static ParsedSpec Parse(string path, SourceText text, IEnumerable<SpecDocument> others, CancellationToken ct)
    {
        var document = ReadDocument(path, text, ct);
        var index = SpecIndex.Create(others.Where(o => o.Key != document.Key).Concat(new[] { document }));
        return Build(SpecResolver.Resolve(document, index, ct), ct);
    }

    /// <summary>
    /// Pass 1, per file: the JSON syntax (RNA1xxx) and the top level being an object. The result is the spec's
    /// JSON-level representation, before <c>extends</c> is resolved. Never throws (but on cancellation).
    /// </summary>
    internal static SpecDocument ReadDocument(string path, SourceText text, CancellationToken ct)
    {
        LineMap lines;
        try
        {
            lines = LineMap.From(text);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Unreadable(path, EmptyLines, InternalError(new LocationInfo(path, new TextSpan(0, 0), default), e));
        }
        try
        {
            ct.ThrowIfCancellationRequested();
            var parsed = JsonReader.Parse(text);
            if (parsed.Error is { } error)
            {
                var location = LocationInfo.Create(path, lines, error.Span);
                return Unreadable(path, lines, error.Kind == JsonErrorKind.DuplicateProperty
                    ? DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateProperty, location, error.PropertyName ?? "")
                    : DiagnosticInfo.Create(DiagnosticDescriptors.MalformedJson, location, error.Message));
            }
            if (parsed.Root is not JsonObject root)
            {
                var node = parsed.Root!;
                return Unreadable(path, lines, DiagnosticInfo.Create(DiagnosticDescriptors.WrongValueType,
                    LocationInfo.Create(path, lines, node.Span), "(root)", "an object", node.Describe()));
            }
            return new SpecDocument(path, path, path, lines, root, EquatableArray<DiagnosticInfo>.Empty);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return Unreadable(path, lines, InternalError(LocationInfo.Create(path, lines, new TextSpan(0, 0)), e));
        }
    }

    private static readonly LineMap EmptyLines = LineMap.From(SourceText.From(""));

    private static SpecDocument Unreadable(string path, LineMap lines, DiagnosticInfo diagnostic) =>
        new(path, path, path, lines, null, new EquatableArray<DiagnosticInfo>(new[] { diagnostic }));

    private static DiagnosticInfo InternalError(LocationInfo location, Exception e) =>
        DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, location, e.GetType().Name + ": " + e.Message);

    /// <summary>
    /// Passes 2 to 4 on a resolved spec (its own tree merged over its bases'): schema, model rules, variants. The
    /// result carries every diagnostic of the spec, those of reading and resolving included. Never throws (but on
    /// cancellation): an unexpected exception becomes RNA9001 at the start of the file.
    /// </summary>
    internal static ParsedSpec Build(ResolvedSpec resolved, CancellationToken ct)
    {
        var document = resolved.Document;
        var inheritedSpan = resolved.Bases.IsEmpty ? null : document.Extends?.ValueSpan;
        var parser = new SpecParser(document, inheritedSpan, ct);
        parser._diagnostics.AddRange(document.Diagnostics);
        parser._diagnostics.AddRange(resolved.Diagnostics);
        parser._hasErrors = parser._diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
        ModelSpec? spec = null;
        try
        {
            if (document.Root is not null && !resolved.Failed && !document.Skip)
            {
                spec = parser.ParseSpec(SpecResolver.Merge(resolved));
                if (parser._hasErrors) spec = null;
                else if (spec is null) throw new InvalidOperationException("the spec could not be built, but no error was reported");
            }
            else if (!parser._hasErrors && !document.Skip)
            {
                throw new InvalidOperationException("the spec could not be read, but no error was reported");
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            spec = null;
            parser._hasErrors = true;
            parser._diagnostics.Add(InternalError(StartOfFile(document), e));
        }

        // Report in document order (stable for equal positions, so the order stays deterministic).
        var diagnostics = parser._diagnostics
            .Select((d, i) => (d, i))
            .OrderBy(x => x.d.Location?.FilePath == document.FilePath ? 0 : 1)
            .ThenBy(x => x.d.Location?.Span.Start ?? 0)
            .ThenBy(x => x.i)
            .Select(x => x.d)
            .ToEquatableArray();
        return new ParsedSpec(document.FilePath, spec, diagnostics)
        {
            DeclaredNames = parser._declaredNames.ToEquatableArray(),
            Key = document.Key,
            Display = document.Display,
        };
    }

    /// <summary>The start of the file, without trusting the line map (it may be what failed).</summary>
    private static LocationInfo StartOfFile(SpecDocument document)
    {
        try
        {
            return document.Locate(new TextSpan(0, 0));
        }
        catch (Exception)
        {
            return new LocationInfo(document.FilePath, new TextSpan(0, 0), default);
        }
    }

    // ------------------------------------------------------------------ reporting

    private void Report(DiagnosticDescriptor descriptor, TextSpan span, params string[] args)
    {
        bool inherited = _inheritedSpan is { } i && span == i;
        // A warning about inherited values alone is the base's warning: the base reports it.
        if (inherited && descriptor.DefaultSeverity != DiagnosticSeverity.Error) return;
        if (descriptor.DefaultSeverity == DiagnosticSeverity.Error) _hasErrors = true;
        _diagnostics.Add(DiagnosticInfo.Create(descriptor, _document.Locate(span), args));
    }

    /// <summary>
    /// Reports a rule that involves several values. For the family it points at the first operand
    /// that was written in the file (else at <paramref name="fallback"/>); operands the spec wrote itself
    /// come before inherited ones (which all sit at the <c>extends</c> value). For a variant it is only
    /// reported when the variant changed one of the operands (otherwise the family already reported
    /// it), and it points at the first operand the variant wrote.
    /// </summary>
    private void ReportRule(bool isVariant, TextSpan fallback, DiagnosticDescriptor descriptor, Origin[] operands, params string[] args)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var operand in operands)
            {
                if (operand.Span is not { } span || (isVariant && !operand.Overridden)) continue;
                bool inherited = _inheritedSpan is { } i && span == i;
                if (inherited != (pass == 1)) continue;
                Report(descriptor, span, args);
                return;
            }
        }
        if (!isVariant) Report(descriptor, fallback, args);
    }

    private static string Raw(JsonNode node)
    {
        string raw = node switch
        {
            JsonString s => s.RawText,
            JsonNumber n => n.RawText,
            _ => node.Describe(),
        };
        return raw.Length <= 60 ? raw : raw.Substring(0, 57) + "...";
    }

    private static string Quote(IEnumerable<string> values) => string.Join(", ", values.Select(v => "\"" + v + "\""));

    private static string Str(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Str(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    // ------------------------------------------------------------------ object helpers

    /// <summary>RNA2001 for every property of <paramref name="obj"/> the schema does not know.</summary>
    private void CheckFields(JsonObject obj, string schemaPath, string displayPath)
    {
        var known = SpecSchema.Fields[schemaPath];
        foreach (var property in obj.Properties)
        {
            if (known.Contains(property.Name)) continue;
            string container = displayPath.Length == 0 ? "the spec" : "'" + displayPath + "'";
            Report(DiagnosticDescriptors.UnknownField, property.NameSpan,
                property.Name, container, SpecSchema.DidYouMean(property.Name, known));
        }
    }

    /// <summary>The property, or null after RNA2003 at the object's opening brace.</summary>
    private JsonProperty? Required(JsonObject obj, string path, string name)
    {
        var property = obj.Find(name);
        if (property is null) Report(DiagnosticDescriptors.MissingRequiredField, obj.OpenBraceSpan, SpecSchema.Join(path, name));
        return property;
    }

    private static JsonProperty? Optional(JsonObject? obj, string name) => obj?.Find(name);

    /// <summary>A nested object ("dims", "norm", ...) after checking its field names; null when missing or not an object.</summary>
    private JsonObject? Section(JsonObject parent, string parentPath, string name, bool required)
    {
        var property = required ? Required(parent, parentPath, name) : parent.Find(name);
        if (property is null) return null;
        string path = SpecSchema.Join(parentPath, name);
        var obj = AsObject(property.Value, path);
        if (obj is not null) CheckFields(obj, path, path);
        return obj;
    }

    private JsonObject? AsObject(JsonNode node, string path)
    {
        if (node is JsonObject obj) return obj;
        Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an object", node.Describe());
        return null;
    }

    // ------------------------------------------------------------------ value readers

    private Val<int>? ReadInt(JsonNode node, string path, int min, bool overridden)
    {
        if (node is not JsonNumber number)
        {
            Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an integer", node.Describe());
            return null;
        }
        if (!number.IsIntegerLiteral)
        {
            Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an integer", number.Describe());
            return null;
        }
        if (!number.TryGetInt32(out int value) || value < min)
        {
            Report(DiagnosticDescriptors.ValueOutOfRange, node.Span, path, RangeText(min), number.RawText);
            return null;
        }
        return new Val<int>(value, node.Span, overridden);
    }

    private static string RangeText(int min) => min switch
    {
        1 => "a positive integer",
        0 => "zero or a positive integer",
        _ => "an integer of at least " + Str(min),
    };

    private Val<double>? ReadNumber(JsonNode node, string path, bool positive, bool overridden)
    {
        if (node is not JsonNumber number)
        {
            Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "a number", node.Describe());
            return null;
        }
        if (positive && !(number.Value > 0))
        {
            Report(DiagnosticDescriptors.ValueOutOfRange, node.Span, path, "a positive number", number.RawText);
            return null;
        }
        return new Val<double>(number.Value, node.Span, overridden);
    }

    /// <summary>A positive LayerNorm epsilon; RNA3101 (warning) outside [1e-15, 1e-2].</summary>
    private Val<double>? ReadEps(JsonNode node, string path, bool overridden)
    {
        var value = ReadNumber(node, path, positive: true, overridden);
        if (value is { } eps && (eps.Value < 1e-15 || eps.Value > 1e-2))
        {
            Report(DiagnosticDescriptors.SuspiciousLayerNormEps, node.Span, path, ((JsonNumber)node).RawText);
        }
        return value;
    }

    private Val<bool>? ReadBool(JsonNode node, string path, bool overridden)
    {
        if (node is JsonBoolean b) return new Val<bool>(b.Value, node.Span, overridden);
        Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "a boolean", node.Describe());
        return null;
    }

    private Val<string>? ReadString(JsonNode node, string path, bool nonEmpty = false)
    {
        if (node is JsonString s && (!nonEmpty || s.Value.Length > 0)) return new Val<string>(s.Value, node.Span);
        Report(DiagnosticDescriptors.WrongValueType, node.Span, path, nonEmpty ? "a non-empty string" : "a string",
            node is JsonString ? "an empty string" : node.Describe());
        return null;
    }

    private Val<string>? ReadEnum(JsonNode node, string path, IReadOnlyList<string> allowed, bool overridden)
    {
        if (node is not JsonString s)
        {
            Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "a string", node.Describe());
            return null;
        }
        if (!allowed.Contains(s.Value))
        {
            Report(DiagnosticDescriptors.InvalidEnumValue, node.Span, path, Raw(node), Quote(allowed));
            return null;
        }
        return new Val<string>(s.Value, node.Span, overridden);
    }

    private Val<bool>? OptionalBool(JsonObject? obj, string objPath, string name, bool defaultValue)
    {
        var property = Optional(obj, name);
        return property is null ? Val<bool>.Default(defaultValue) : ReadBool(property.Value, SpecSchema.Join(objPath, name), false);
    }

    private Val<string>? OptionalEnum(JsonObject? obj, string objPath, string name, IReadOnlyList<string> allowed, string defaultValue)
    {
        var property = Optional(obj, name);
        return property is null ? Val<string>.Default(defaultValue) : ReadEnum(property.Value, SpecSchema.Join(objPath, name), allowed, false);
    }

    private Val<int?>? ReadVocabSize(JsonNode node, string path, bool overridden)
    {
        switch (node)
        {
            case JsonNumber:
                return ReadInt(node, path, 1, overridden) is { } size ? new Val<int?>(size.Value, node.Span, overridden) : null;
            case JsonString { Value: "from_tokenizer" }:
                return new Val<int?>(null, node.Span, overridden);
            case JsonString:
                Report(DiagnosticDescriptors.InvalidEnumValue, node.Span, path, Raw(node), "a positive integer or \"from_tokenizer\"");
                return null;
            default:
                Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an integer or \"from_tokenizer\"", node.Describe());
                return null;
        }
    }
}
