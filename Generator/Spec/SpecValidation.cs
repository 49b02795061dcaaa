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
        var seen = new Dictionary<(bool IsType, string Name), string>();
        var diagnostics = new List<DiagnosticInfo>();
        var ordered = specs.Select((s, i) => (s, i)).OrderBy(x => x.s.FilePath, StringComparer.Ordinal).ThenBy(x => x.i).Select(x => x.s);
        foreach (var spec in ordered)
        {
            var own = new HashSet<(bool, string)>();
            foreach (var declared in spec.DeclaredNames)
            {
                var key = (declared.Kind == DeclaredNameKind.Type, declared.Name);
                if (!own.Add(key)) continue;
                if (seen.TryGetValue(key, out var otherFile))
                {
                    if (otherFile == spec.FilePath) continue;
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateModelName, declared.Location,
                        Describe(declared.Kind), declared.Name, otherFile));
                }
                else
                {
                    seen.Add(key, spec.FilePath);
                }
            }
        }
        return diagnostics.ToEquatableArray();
    }

    private static string Describe(DeclaredNameKind kind) => kind switch
    {
        DeclaredNameKind.Model => "model name",
        DeclaredNameKind.Variant => "variant name",
        _ => "type",
    };
}
