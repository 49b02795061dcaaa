using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Json;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

/// <summary>
/// One spec at the JSON level, before <c>extends</c> is resolved and before any model rule is checked: the tree of a
/// <c>*.model.json</c> file, or the tree an attribute spec's attributes translate to. Both kinds of spec meet here,
/// so resolution, validation and emission are shared. Compares by value (the tree with its spans, the line map,
/// the diagnostics), so it can flow through the incremental pipeline.
/// </summary>
internal sealed class SpecDocument : IEquatable<SpecDocument>
{
    public SpecDocument(string key, string filePath, string display, LineMap lines, JsonObject? root, EquatableArray<DiagnosticInfo> diagnostics)
    {
        Key = key;
        FilePath = filePath;
        Display = display;
        Lines = lines;
        Root = root;
        Diagnostics = diagnostics;
        if (root?.Find("name")?.Value is JsonString name) Name = name.Value;
        Extends = root?.Find("extends");
    }

    /// <summary>Identifies the spec among all specs of the compilation: the file path, or for an attribute spec the
    /// file path and the class (two attribute specs may share a file).</summary>
    public string Key { get; }

    /// <summary>The file diagnostics point into (the JSON file, or the C# file holding the attributes).</summary>
    public string FilePath { get; }

    /// <summary>How other specs' messages name this one: the path, or "path (class X)".</summary>
    public string Display { get; }

    public LineMap Lines { get; }

    /// <summary>The top-level object; null when the text is not a JSON object (the reason is in <see cref="Diagnostics"/>).</summary>
    public JsonObject? Root { get; }

    /// <summary>Problems found while reading: JSON syntax (RNA1xxx), attribute usage (RNA5xxx), internal errors.</summary>
    public EquatableArray<DiagnosticInfo> Diagnostics { get; }

    /// <summary>The "name" value when it is a string (the key other specs' <c>extends</c> refer to).</summary>
    public string? Name { get; }

    /// <summary>The "extends" property, if written.</summary>
    public JsonProperty? Extends { get; }

    /// <summary>
    /// True when the spec must not be built: an attribute spec whose attributes have compiler errors (the compiler
    /// reports those; building from half the arguments would only add noise).
    /// </summary>
    public bool Skip { get; init; }

    public LocationInfo Locate(TextSpan span) => LocationInfo.Create(FilePath, Lines, span);

    public bool Equals(SpecDocument? other) =>
        ReferenceEquals(this, other)
        || (other is not null && Key == other.Key && FilePath == other.FilePath && Display == other.Display && Skip == other.Skip
            && Lines.Equals(other.Lines) && Equals(Root, other.Root) && Diagnostics.Equals(other.Diagnostics));

    public override bool Equals(object? obj) => obj is SpecDocument other && Equals(other);

    public override int GetHashCode() => (Key, Root?.Span ?? default).GetHashCode();
}

/// <summary>Every readable spec of the compilation by model name (the input of <c>extends</c> resolution).</summary>
internal sealed class SpecIndex : IEquatable<SpecIndex>
{
    public static readonly SpecIndex Empty = new(EquatableArray<SpecDocument>.Empty);

    private readonly EquatableArray<SpecDocument> _documents;
    private Dictionary<string, SpecDocument>? _byName;

    private SpecIndex(EquatableArray<SpecDocument> documents) => _documents = documents;

    /// <summary>
    /// The documents that have a name, ordered by <see cref="SpecDocument.Key"/> (ordinal), so the result does not
    /// depend on the order the compiler lists files in. When two specs declare one name (RNA4004), the first wins.
    /// </summary>
    public static SpecIndex Create(IEnumerable<SpecDocument> documents) =>
        new(documents.Where(d => d.Name is not null).OrderBy(d => d.Key, StringComparer.Ordinal).ToEquatableArray());

    public bool TryGet(string name, out SpecDocument document)
    {
        if (_byName is null)
        {
            var map = new Dictionary<string, SpecDocument>(StringComparer.Ordinal);
            foreach (var d in _documents)
            {
                if (!map.ContainsKey(d.Name!)) map.Add(d.Name!, d);
            }
            _byName = map;
        }
        return _byName.TryGetValue(name, out document!);
    }

    public IEnumerable<string> Names => _documents.Select(d => d.Name!);

    public bool Equals(SpecIndex? other) => ReferenceEquals(this, other) || (other is not null && _documents.Equals(other._documents));

    public override bool Equals(object? obj) => obj is SpecIndex other && Equals(other);

    public override int GetHashCode() => _documents.Count;
}

/// <summary>
/// A document with its base specs (<c>extends</c>, nearest first) and the resolution problems. The merged tree is
/// computed from these when the spec is built, so this value only changes when the spec or one of its bases does.
/// </summary>
internal sealed record ResolvedSpec(SpecDocument Document, EquatableArray<SpecDocument> Bases, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>True when <c>extends</c> could not be resolved (unknown base, cycle, not a string): the spec is not built.</summary>
    public bool Failed { get; init; }
}
