using System;
using System.Collections.Generic;
using System.Linq;

namespace RnaLm.Models;

/// <summary>Finds model families and variants by name. The generated <c>ModelCatalog</c> fills one with every spec.</summary>
public sealed class ModelRegistry
{
    private readonly Dictionary<string, IModelFamily> _families = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IModelVariant> _variants = new(StringComparer.Ordinal);

    public ModelRegistry(IEnumerable<IModelFamily> families)
    {
        foreach (var family in families)
        {
            if (!_families.TryAdd(family.Name, family))
            {
                throw new ArgumentException($"Two model families are named '{family.Name}'.", nameof(families));
            }
            foreach (var variant in family.Variants)
            {
                if (!_variants.TryAdd(variant.Name, variant))
                {
                    throw new ArgumentException($"Two model variants are named '{variant.Name}'.", nameof(families));
                }
            }
        }
    }

    /// <summary>Families sorted by name.</summary>
    public IReadOnlyList<IModelFamily> Families => _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();

    /// <summary>All variants, sorted by family then in spec order.</summary>
    public IReadOnlyList<IModelVariant> Variants => Families.SelectMany(f => f.Variants).ToList();

    public IModelFamily GetFamily(string modelType) =>
        _families.TryGetValue(modelType, out var family)
            ? family
            : throw new KeyNotFoundException(
                $"Unknown model_type '{modelType}'. Known families: {string.Join(", ", _families.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");

    public bool TryGetFamily(string modelType, out IModelFamily family) => _families.TryGetValue(modelType, out family!);

    public IModelVariant GetVariant(string name) =>
        _variants.TryGetValue(name, out var variant)
            ? variant
            : throw new KeyNotFoundException(
                $"Unknown model '{name}'. Known models: {string.Join(", ", _variants.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");
}
