using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Json;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

/// <summary>
/// <c>"extends": "&lt;model name&gt;"</c>: a spec inherits every field of the spec that declares that model name, except
/// the fields that identify a spec (<see cref="NotInherited"/>). Objects merge field by field (deep); arrays, scalars and
/// <c>null</c> written by the inheriting spec replace the inherited value. Bases may extend further specs; the chain
/// must end without a cycle (RNA4007) at specs that exist (RNA4006). Both diagnostics point at the <c>extends</c> value.
/// </summary>
internal static class SpecResolver
{
    /// <summary>Top-level fields a spec never inherits: each spec has its own version, identity and variants.</summary>
    public static readonly ImmutableArray<string> NotInherited = ImmutableArray.Create("spec_version", "name", "type_name", "extends", "variants");

    /// <summary>Finds the bases of <paramref name="document"/> in <paramref name="index"/>; never throws (but on cancellation).</summary>
    public static ResolvedSpec Resolve(SpecDocument document, SpecIndex index, CancellationToken ct)
    {
        var none = EquatableArray<SpecDocument>.Empty;
        try
        {
            if (document.Root is null || document.Extends is not { } extends) return new ResolvedSpec(document, none, EquatableArray<DiagnosticInfo>.Empty);
            if (extends.Value is not JsonString first)
            {
                return Failed(document, DiagnosticInfo.Create(DiagnosticDescriptors.WrongValueType, document.Locate(extends.ValueSpan),
                    "extends", "a string (the model name of another spec)", extends.Value.Describe()));
            }

            var bases = new List<SpecDocument>();
            var names = new List<string> { document.Name ?? "(this spec)" };
            string wanted = first.Value;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (!index.TryGet(wanted, out var next))
                {
                    string hint = bases.Count > 0
                        ? " (the base of '" + names[names.Count - 1] + "')"
                        : SpecSchema.DidYouMean(wanted, index.Names.Where(n => n != document.Name));
                    return Failed(document, DiagnosticInfo.Create(DiagnosticDescriptors.UnknownBaseSpec, document.Locate(first.Span), wanted, hint));
                }
                if (next.Key == document.Key || bases.Any(b => b.Key == next.Key))
                {
                    names.Add(wanted);
                    return Failed(document, DiagnosticInfo.Create(DiagnosticDescriptors.CircularExtends, document.Locate(first.Span),
                        first.Value, string.Join(" -> ", names)));
                }
                bases.Add(next);
                names.Add(wanted);
                // A base whose own "extends" is not a string reports that itself; the chain stops there.
                if (next.Root is null || next.Extends?.Value is not JsonString further) break;
                wanted = further.Value;
            }
            return new ResolvedSpec(document, bases.ToEquatableArray(), EquatableArray<DiagnosticInfo>.Empty);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return Failed(document, DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, document.Locate(new TextSpan(0, 0)),
                e.GetType().Name + ": " + e.Message));
        }
    }

    private static ResolvedSpec Failed(SpecDocument document, DiagnosticInfo diagnostic) =>
        new(document, EquatableArray<SpecDocument>.Empty, new EquatableArray<DiagnosticInfo>(new[] { diagnostic })) { Failed = true };

    /// <summary>
    /// The tree the spec is built from: the bases' inheritable fields merged from the farthest base to the nearest,
    /// moved to the span of the <c>extends</c> value (so anything reported about an inherited value points there),
    /// then the spec's own tree merged on top.
    /// </summary>
    public static JsonObject Merge(ResolvedSpec resolved)
    {
        var own = resolved.Document.Root!;
        if (resolved.Bases.IsEmpty || resolved.Document.Extends is not { } extends) return own;
        JsonObject? inherited = null;
        for (int i = resolved.Bases.Count - 1; i >= 0; i--)
        {
            var root = resolved.Bases[i].Root;
            if (root is null) continue;
            var stripped = new JsonObject(root.Span, root.Properties.Where(p => !NotInherited.Contains(p.Name)).ToImmutableArray(), root.OpenBraceSpan);
            inherited = inherited is null ? stripped : MergeObjects(inherited, stripped);
        }
        if (inherited is null) return own;
        var relocated = (JsonObject)inherited.Relocate(extends.ValueSpan);
        return MergeObjects(relocated, own);
    }

    /// <summary>
    /// A slot object that names another kind than the inherited one replaces it whole (the inherited kind's fields would
    /// not belong to the new kind); the same kind, or no "kind", merges field by field.
    /// </summary>
    private static bool NamesAnotherKind(JsonObject inherited, JsonObject replacement) =>
        replacement.Find("kind") is { Value: JsonString kind } && !(inherited.Find("kind") is { Value: JsonString old } && old.Value == kind.Value);

    /// <summary>Deep merge: the base's fields in their order (overridden ones in place), then the new fields.</summary>
    public static JsonObject MergeObjects(JsonObject baseObject, JsonObject overrides)
    {
        var result = ImmutableArray.CreateBuilder<JsonProperty>(baseObject.Properties.Length + overrides.Properties.Length);
        foreach (var inherited in baseObject.Properties)
        {
            var replacement = overrides.Find(inherited.Name);
            if (replacement is null)
            {
                result.Add(inherited);
            }
            else if (inherited.Value is JsonObject a && replacement.Value is JsonObject b && !NamesAnotherKind(a, b))
            {
                result.Add(new JsonProperty(replacement.Name, replacement.NameSpan, MergeObjects(a, b)));
            }
            else
            {
                result.Add(replacement);
            }
        }
        foreach (var property in overrides.Properties)
        {
            if (baseObject.Find(property.Name) is null) result.Add(property);
        }
        return new JsonObject(overrides.Span, result.ToImmutable(), overrides.OpenBraceSpan);
    }
}
