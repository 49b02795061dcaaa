using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

internal enum DeclaredNameKind
{
    /// <summary>"name": the family / model_type.</summary>
    Model,
    /// <summary>A key of "variants" (other than the family name itself).</summary>
    Variant,
    /// <summary>"namespace" + "." + "type_name": the generated C# type prefix.</summary>
    Type,
}

/// <summary>A name one spec file declares, and where (for RNA4004).</summary>
internal sealed record DeclaredName(DeclaredNameKind Kind, string Name, LocationInfo Location)
{
    /// <summary>Same kinds and names in the same order, wherever they are written.</summary>
    public static bool SameNames(EquatableArray<DeclaredName> a, EquatableArray<DeclaredName> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i].Kind != b[i].Kind || a[i].Name != b[i].Name) return false;
        }
        return true;
    }
}

/// <summary>The cross-spec diagnostics and the keys of the specs they exclude from emission.</summary>
internal sealed record CrossSpecResult(EquatableArray<DiagnosticInfo> Diagnostics, EquatableArray<string> Rejected)
{
    public static readonly CrossSpecResult Empty = new(EquatableArray<DiagnosticInfo>.Empty, EquatableArray<string>.Empty);
}

/// <summary>Checks that need every spec of the compilation at once.</summary>
internal static class SpecValidation
{
    /// <summary>
    /// RNA4004 for every model, variant or type name that an earlier spec already declares. Model
    /// and variant names share one space (both are model ids); type names are compared with their
    /// namespace. Specs are taken in ordinal order of their paths, so the result does not depend on
    /// the order the compiler lists the files in; the diagnostic goes to the later file's token and
    /// names the earlier file.
    /// </summary>
    internal static EquatableArray<DiagnosticInfo> CheckDuplicateNames(ImmutableArray<ParsedSpec> specs)
    {
        if (specs.IsDefaultOrEmpty) return EquatableArray<DiagnosticInfo>.Empty;
        return Check(specs).Diagnostics;
    }

    /// <summary>
    /// <see cref="CheckDuplicateNames"/> plus the keys of the specs that received RNA4004: those are not emitted
    /// (their generated files would clash with the earlier spec's), while the earlier spec still is.
    /// </summary>
    internal static CrossSpecResult Check(ImmutableArray<ParsedSpec> specs)
    {
        if (specs.IsDefaultOrEmpty) return CrossSpecResult.Empty;
        var seen = new Dictionary<(bool IsType, string Name), ParsedSpec>();
        var diagnostics = new List<DiagnosticInfo>();
        var rejected = new SortedSet<string>(StringComparer.Ordinal);
        var ordered = specs.Select((s, i) => (s, i)).OrderBy(x => x.s.Key, StringComparer.Ordinal).ThenBy(x => x.i).Select(x => x.s);
        foreach (var spec in ordered)
        {
            var own = new HashSet<(bool, string)>();
            foreach (var declared in spec.DeclaredNames)
            {
                var key = (declared.Kind == DeclaredNameKind.Type, declared.Name);
                if (!own.Add(key)) continue;
                if (seen.TryGetValue(key, out var other))
                {
                    if (other.Key == spec.Key) continue;
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateModelName, declared.Location,
                        Describe(declared.Kind), declared.Name, other.Display));
                    rejected.Add(spec.Key);
                }
                else
                {
                    seen.Add(key, spec);
                }
            }
        }
        return new CrossSpecResult(diagnostics.ToEquatableArray(), rejected.ToEquatableArray());
    }

    private static string Describe(DeclaredNameKind kind) => kind switch
    {
        DeclaredNameKind.Model => "model name",
        DeclaredNameKind.Variant => "variant name",
        _ => "type",
    };
}
