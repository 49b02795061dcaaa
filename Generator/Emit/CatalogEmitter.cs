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
        foreach (var f in families.OrderBy(f => f.Name, System.StringComparer.Ordinal))
        {
            w.Line($"    {f.FullType}.Instance,");
        }
        w.Line("});");
        w.Close();
        return w.ToString();
    }
}
