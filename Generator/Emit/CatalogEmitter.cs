using System.Collections.Generic;
using System.Linq;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>Emits <c>ModelCatalog</c>: the registry of every family in the compilation, sorted by name.</summary>
internal static class CatalogEmitter
{
    public static string Emit(string ns, IEnumerable<(string Name, string FullType)> families)
    {
        var w = new SourceWriter();
        Code.Header(w, ns);
        w.Line("/// <summary>Every model family declared in this assembly's specs.</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open("public static partial class ModelCatalog");
        w.Line("/// <summary>A registry of all families and their variants.</summary>");
        w.Line("public static global::RnaLm.Models.ModelRegistry Registry { get; } = new(new global::RnaLm.Models.IModelFamily[]");
        w.Line("{");
        var sorted = families.OrderBy(f => f.Name, System.StringComparer.Ordinal).ToList();
        foreach (var f in sorted)
        {
            w.Line($"    {f.FullType}.Instance,");
        }
        w.Line("});");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// The model-card table of every registered model as Markdown (families by name, variants in spec order): layers,");
        w.Line("/// hidden size, heads, intermediate size, vocabulary, backbone parameters with a pooler, and the maximum tokens per");
        w.Line("/// sequence including special tokens. Every value is a compile-time constant of the specs; docs/models.md shows this text.");
        w.Line("/// </summary>");
        w.Line("public const string ModelCardTable =");
        w.Line("    " + Code.String(Facts.ModelCardHeader) + " +");
        for (int k = 0; k < sorted.Count; k++)
        {
            w.Line($"    {sorted[k].FullType}.ModelCardRows" + (k == sorted.Count - 1 ? ";" : " +"));
        }
        w.Close();
        return w.ToString();
    }
}
