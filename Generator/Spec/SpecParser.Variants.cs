using System.Collections.Generic;
using System.Collections.Immutable;
using RnaLm.Generator.Diagnostics;
using System.Linq;
using RnaLm.Generator.Json;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

// Pass 4: variants. Each variant is an object shaped like the top level that may only set the
// configuration paths of SpecSchema.Overridable; it is resolved onto a copy of the family's
// SpecConfig and then checked with the same model rules as the family.
internal sealed partial class SpecParser
{
    /// <summary>The resolved variants, or null when any of them (or the family) is invalid.</summary>
    private ImmutableArray<VariantSpec>? ReadVariants(JsonObject root, SpecConfig family, TokenizerSpec? familyTokenizer)
    {
        var variantsProperty = root.Find("variants");
        JsonObject? variants = null;
        if (variantsProperty is not null)
        {
            variants = AsObject(variantsProperty.Value, "variants");
            if (variants is null) return null;
        }

        string familyName = _name?.Value ?? "";
        string typeName = _typeName?.Value ?? "";
        var result = ImmutableArray.CreateBuilder<VariantSpec>();
        bool ok = true;

        if (variants is null || variants.Properties.Length == 0)
        {
            // No variants: the family itself is the one model.
            if (_name is null || _typeName is null || familyTokenizer is null) return null;
            foreach (var (generated, _) in NameRules.GeneratedVariantMembers(typeName))
            {
                if (NameRules.ReservedMemberReason(generated, typeName) is { } reason && _typeName.Value.Span is { } typeSpan)
                {
                    Report(DiagnosticDescriptors.GeneratedMemberCollision, typeSpan, familyName, generated, reason);
                    return null;
                }
            }
            var single = ToVariant(familyName, typeName, family, familyTokenizer);
            return single is null ? null : ImmutableArray.Create(single);
        }

        var memberNames = new Dictionary<string, string>(System.StringComparer.Ordinal);
        var generatedMembers = new Dictionary<string, string>(System.StringComparer.Ordinal);
        foreach (var property in variants.Properties)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            string name = property.Name;
            bool nameOk = true;
            if (!NameRules.IsValidModelName(name))
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, property.NameSpan, "variant name", name, NameRules.ModelNameRule);
                nameOk = false;
            }
            else
            {
                if (name != familyName)
                {
                    _declaredNames.Add(new DeclaredName(DeclaredNameKind.Variant, name, LocationInfoAt(property.NameSpan)));
                }
                if (_typeName is not null)
                {
                    string member = NameRules.VariantMemberName(name, familyName, typeName);
                    if (!NameRules.IsPlainIdentifier(member) || !(member[0] >= 'A' && member[0] <= 'Z'))
                    {
                        Report(DiagnosticDescriptors.InvalidIdentifier, property.NameSpan, "variant name", name,
                            "its C# member name '" + member + "' must start with a letter; start the name with the family name or a letter");
                        nameOk = false;
                    }
                    else if (memberNames.TryGetValue(member, out var other))
                    {
                        Report(DiagnosticDescriptors.DuplicateVariantName, property.NameSpan, name, member, other);
                        nameOk = false;
                    }
                    else if (GeneratedMemberCollision(member, name, typeName, generatedMembers) is { } collision)
                    {
                        Report(DiagnosticDescriptors.GeneratedMemberCollision, property.NameSpan, name, collision.Member, collision.Reason);
                        nameOk = false;
                    }
                    else
                    {
                        memberNames.Add(member, name);
                    }
                }
            }

            string display = "variants[\"" + name + "\"]";
            if (property.Value is not JsonObject overrides)
            {
                Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, display, "an object", property.Value.Describe());
                ok = false;
                continue;
            }

            var config = family.Clone();
            WalkOverrides(overrides, "", name, display, config);
            var tokenizer = CheckConfig(config, isVariant: true, property.NameSpan);
            if (tokenizer is not null && familyTokenizer is not null && UsesBaseIds()
                && BaseIds(tokenizer) is { } variantIds && BaseIds(familyTokenizer) is { } familyIds && variantIds != familyIds)
            {
                Report(DiagnosticDescriptors.InvalidPairPrior, property.NameSpan,
                    "in variant '" + name + "': its vocabulary gives A, C, G, U the ids " + variantIds
                    + " but the family's gives " + familyIds + " (the generated pair map and secondary-structure head use one set of ids)");
                ok = false;
                continue;
            }
            if (!nameOk || tokenizer is null || _typeName is null)
            {
                ok = false;
                continue;
            }
            var variant = ToVariant(name, NameRules.VariantMemberName(name, familyName, typeName), config, tokenizer);
            if (variant is null) ok = false;
            else result.Add(variant);
        }
        return ok ? result.ToImmutable() : null;
    }

    /// <summary>True when generated code bakes in the ids of A, C, G and U (the pair prior and the secondary-structure head).</summary>
    private bool UsesBaseIds() => _biases.Any(b => b.Kind is PairPriorBiasKind) || _secondaryStructure is not null;

    /// <summary>"a, c, g, u": the ids of the four bases, or null when the vocabulary lacks one (reported by the pair prior's rule).</summary>
    private static string? BaseIds(TokenizerSpec tokenizer)
    {
        var ids = new[] { "A", "C", "G", "U" }.Select(letter =>
        {
            for (int i = 0; i < tokenizer.Vocabulary.Count; i++) if (tokenizer.Vocabulary[i] == letter) return i;
            return -1;
        }).ToArray();
        return ids.Any(i => i < 0) ? null : string.Join(", ", ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private void WalkOverrides(JsonObject obj, string schemaPath, string variant, string display, SpecConfig config)
    {
        var known = KnownFields(schemaPath);
        foreach (var property in obj.Properties)
        {
            string childPath = SpecSchema.Join(schemaPath, property.Name);
            string childDisplay = display + "." + property.Name;
            if (!known.Contains(property.Name))
            {
                Report(DiagnosticDescriptors.VariantUnknownField, property.NameSpan, variant, childPath, SpecSchema.DidYouMean(property.Name, known));
            }
            else if (IsOverridable(childPath))
            {
                ApplyConfigValue(config, childPath, property.Value, childDisplay, overridden: true);
            }
            else if (schemaPath == "attention.biases" && !_biases.Any(b => b.KindName == property.Name))
            {
                // A bias the family lacks: its configuration fields cannot be set, the block itself cannot be added.
                if (property.Value is JsonObject absent && KindRegistry.AttentionBias.Find(property.Name) is { } absentKind)
                {
                    foreach (var field in absent.Properties)
                    {
                        if (absentKind.Field(field.Name) is { Overridable: true })
                        {
                            Report(DiagnosticDescriptors.VariantOverridesAbsentBlock, field.NameSpan, variant, childPath + "." + field.Name, childPath);
                        }
                        else
                        {
                            Report(DiagnosticDescriptors.VariantArchitectureField, field.NameSpan, childPath + "." + field.Name);
                        }
                    }
                }
                else
                {
                    Report(DiagnosticDescriptors.VariantArchitectureField, property.NameSpan, childPath);
                }
            }
            else if (IsObjectPath(childPath) && HasOverridableDescendant(childPath))
            {
                switch (property.Value)
                {
                    case JsonObject child:
                        WalkOverrides(child, childPath, variant, childDisplay, config);
                        break;
                    case JsonNull:
                        Report(DiagnosticDescriptors.VariantArchitectureField, property.NameSpan, childPath);
                        break;
                    default:
                        Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, childDisplay, "an object", property.Value.Describe());
                        break;
                }
            }
            else
            {
                Report(DiagnosticDescriptors.VariantArchitectureField, property.NameSpan, childPath);
            }
        }
    }

    /// <summary>The field names a variant may write in the object at <paramref name="path"/> (the family's kinds decide for slots).</summary>
    private IReadOnlyList<string> KnownFields(string path)
    {
        if (SpecSchema.Fields.TryGetValue(path, out var fields)) return fields;
        if (path == "attention.biases") return KindRegistry.AttentionBias.KindNames.ToList();
        if (path == "pretraining_heads") return _pretrainingHeads.Select(h => h.Key).ToList();
        foreach (var (slotPath, spec) in FamilyKinds())
        {
            if (slotPath == path) return spec.Kind.Fields.Select(f => f.Name).Concat(new[] { "kind" }).ToList();
        }
        if (path.StartsWith("attention.biases.", System.StringComparison.Ordinal)
            && KindRegistry.AttentionBias.Find(path.Substring("attention.biases.".Length)) is { } bias)
        {
            return bias.Fields.Select(f => f.Name).ToList();
        }
        return System.Array.Empty<string>();
    }

    private bool IsObjectPath(string path) =>
        SpecSchema.Fields.ContainsKey(path) || path == "attention.biases" || path == "pretraining_heads" || FamilyKinds().Any(k => k.Path == path);

    private VariantSpec? ToVariant(string name, string memberName, SpecConfig c, TokenizerSpec tokenizer)
    {
        if (c.Hidden is not { } hidden || c.Layers is not { } layers || c.Heads is not { } heads || c.Intermediate is not { } intermediate
            || c.VocabSize is not { } vocabSize || c.MaxPositions is not { } max || c.MlmTransformActivation is not { } mlmAct
            || c.MlmLayerNormEps is not { } mlmEps
            || !c.KindFields.TryGetValue("norm.eps", out var eps) || eps is not { Value: double epsValue }
            || !c.KindFields.TryGetValue("feed_forward.activation", out var act) || act is not { Value: string actValue })
        {
            return null;
        }
        double alpha = c.KindFields.TryGetValue("attention.biases.pair_prior.alpha", out var a) && a is { Value: double alphaValue } ? alphaValue : 0;
        var switches = new List<KindValue>();
        foreach (var path in _switchPaths)
        {
            if (SwitchAt(path) is { IsConfig: true } sw)
            {
                bool value = c.Switches.TryGetValue(path, out var v) && v is { } set ? set.Value : sw.Default;
                switches.Add(new KindValue(sw.ConfigKey!, value));
            }
        }
        foreach (var head in _pretrainingHeads.Where(h => h.Optional))
        {
            bool present = c.KindFields.TryGetValue("pretraining_heads." + head.Key + ".present", out var p) && p is { Value: bool value } ? value : head.Head.Get<bool>("present");
            switches.Add(new KindValue(head.Key, present));
        }
        return new VariantSpec(
            name,
            memberName,
            new DimsSpec(hidden.Value, layers.Value, heads.Value, intermediate.Value, vocabSize.Value ?? tokenizer.Vocabulary.Count, max.Value),
            epsValue,
            actValue,
            mlmAct.Value,
            mlmEps.Value,
            tokenizer,
            alpha)
        {
            OutputAttentionBiases = c.OutputAttentionBiases?.Value ?? false,
            Architecture = c.Architecture?.Value is "secondary_structure" ? "secondary_structure" : null,
            MaxTokens = tokenizer.ModelMaxLength.Resolve(UsableTokens(c) ?? max.Value),
            Switches = switches.ToEquatableArray(),
        };
    }

    /// <summary>
    /// The first member generated for <paramref name="variant"/> that another variant (or the generated classes
    /// themselves) already uses, which C# would reject as CS0102/CS0542; otherwise records its members and returns null.
    /// </summary>
    private static (string Member, string Reason)? GeneratedMemberCollision(string member, string variant, string typeName,
        Dictionary<string, string> generated)
    {
        foreach (var (name, role) in NameRules.GeneratedVariantMembers(member))
        {
            if (NameRules.ReservedMemberReason(name, typeName) is { } reserved) return (name, reserved);
            if (generated.TryGetValue(name, out var other)) return (name, "is also generated as " + other);
        }
        foreach (var (name, role) in NameRules.GeneratedVariantMembers(member))
        {
            generated[name] = "the " + role + " of variant '" + variant + "'";
        }
        return null;
    }
}
