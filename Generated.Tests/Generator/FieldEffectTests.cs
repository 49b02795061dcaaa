using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Emit;
using RnaLm.Generator.Json;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Spec;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// A field that is parsed must shape the generated code. For every value written in the shipped specs and the kind
/// coverage specs, the test tries other valid values; a field counts as effective when some valid value changes the
/// generated sources. Every field the language has (the fixed sections and every kind's fields) must be written in some
/// spec and be effective, unless it is listed in <see cref="Inert"/> with the reason.
/// </summary>
public sealed class FieldEffectTests
{
    /// <summary>Fields no other valid value exists for, with the reason.</summary>
    private static readonly Dictionary<string, string> Inert = new(StringComparer.Ordinal)
    {
        ["spec_version"] = "2 is the only version this generator reads",
        ["extends"] = "inheritance, tested by ExtendsTests (the inheriting spec's own output changes)",
    };

    private static IEnumerable<(string Name, string Text)> BaseSpecs() =>
        Directory.GetFiles(GeneratorHarness.DefinitionsDir, "*.model.json").OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (Path.GetFileName(p), File.ReadAllText(p)))
            .Concat(KindCoverageTests.Specs.Select(s => (s.Key + ".model.json", s.Value)));

    /// <summary>All generated sources of a spec, or null when it has errors.</summary>
    private static string? Generate(string path, string text)
    {
        var parsed = SpecParser.Parse(path, SourceText.From(text), CancellationToken.None);
        if (parsed.Spec is not { } spec || parsed.Diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error)) return null;
        return ConfigEmitter.Emit(spec) + ModuleEmitter.Emit(spec) + ModelsEmitter.Emit(spec) + FamilyEmitter.Emit(spec);
    }

    /// <summary>
    /// The schema path of a written value: variant overrides are skipped (they are the family's fields), keyed objects
    /// generalised, a slot written as a kind name is its <c>kind</c>, a switch written as a boolean its <c>default</c>.
    /// </summary>
    private static string? SchemaPath(IReadOnlyList<string> path, JsonNode node)
    {
        if (path.Count == 0 || path[0] == "variants") return null;
        var parts = path.ToList();
        if (parts[0] == "pretraining_heads" && parts.Count > 1) parts[1] = "*";
        if (parts[0] == "checkpoint" && parts.Count > 2 && parts[1] is "aliases" or "tied") parts.RemoveAt(2);
        string joined = string.Join(".", parts);
        if (node is JsonString && KindRegistry.Slots.Any(s => s.Path == joined)) return joined + ".kind";
        if (node is JsonBoolean && joined is "embeddings.layer_norm" or "embeddings.token_dropout") return joined + ".default";
        return joined;
    }

    /// <summary>The leaves of a spec (scalars, and arrays of scalars as one value) with their path.</summary>
    private static IEnumerable<(List<string> Path, JsonNode Node)> Leaves(JsonNode node, List<string> path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var p in obj.Properties)
                {
                    foreach (var leaf in Leaves(p.Value, path.Append(p.Name).ToList())) yield return leaf;
                }
                break;
            case JsonArray array when array.Items.All(i => i is JsonObject):
                for (int i = 0; i < array.Items.Length; i++)
                {
                    foreach (var leaf in Leaves(array.Items[i], path.Append(i.ToString(CultureInfo.InvariantCulture)).ToList())) yield return leaf;
                }
                break;
            default:
                yield return (path, node);
                break;
        }
    }

    private static readonly string[] Strings = SpecSchema.Activations.Concat(SpecSchema.MlmActivations).Concat(SpecSchema.HeadTransforms)
        .Concat(SpecSchema.Architectures).Concat(KindRegistry.Slots.SelectMany(s => s.KindNames))
        .Concat(Vocabularies.Alphabets.Keys.OrderBy(k => k, StringComparer.Ordinal))
        .Concat(new[] { "positions", "layer_norm_eps", "from_tokenizer", "head_size", "swish_beta", "activation", "intermediate", "two_thirds", "layer_norm" })
        .Distinct().ToArray();

    /// <summary>Other values to try in place of <paramref name="node"/> (JSON text).</summary>
    private static IEnumerable<string> Candidates(JsonNode node)
    {
        switch (node)
        {
            case JsonBoolean b:
                yield return b.Value ? "false" : "true";
                break;
            case JsonNumber n when n.IsIntegerLiteral:
                long v = (long)n.Value;
                foreach (var c in new[] { v + 1, v * 2, v - 1, v + 2, 1, 2, 3, 4, 8, 16, 32, 64 }.Distinct().Where(c => c != v && c >= 0)) yield return c.ToString(CultureInfo.InvariantCulture);
                yield return "null";
                yield return "\"positions\"";
                yield return "\"head_size\"";
                break;
            case JsonNumber n:
                foreach (var c in new[] { n.Value * 2, n.Value / 2, 0.5, 1e-6 }.Where(c => c != n.Value)) yield return c.ToString("R", CultureInfo.InvariantCulture);
                yield return "\"layer_norm_eps\"";
                break;
            case JsonString s:
                foreach (var c in Strings.Where(c => c != s.Value)) yield return JsonString.Quote(c);
                yield return JsonString.Quote(s.Value + "x");
                if (s.Value.Length > 2 && s.Value[0] == '<' && s.Value[^1] == '>') yield return JsonString.Quote(s.Value[..^1] + "x>");
                yield return JsonString.Quote("Extra." + s.Value);
                yield return "null";
                yield return "128";
                yield return "1e-6";
                break;
            case JsonNull:
                yield return "\"layer_norm\"";
                yield return "128";
                yield return "1e-6";
                yield return "\"positions\"";
                break;
            case JsonArray array:
                if (array.Items.Length > 0) yield return "[" + string.Join(", ", array.Items.Take(array.Items.Length - 1).Select(i => ((JsonString)i).RawText)) + "]";
                yield return "[\"A\", \"C\", \"G\", \"U\"]";
                yield return "[\"extra\"]";
                break;
        }
    }

    [Fact]
    public void EveryFieldOfTheLanguageShapesTheGeneratedCode()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var effective = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, text) in BaseSpecs())
        {
            string path = "/specs/" + name;
            string baseline = Generate(path, text) ?? throw new InvalidOperationException(name + " does not build");
            var root = JsonReader.Parse(SourceText.From(text)).Root!;
            foreach (var (leafPath, node) in Leaves(root, new List<string>()))
            {
                if (SchemaPath(leafPath, node) is not { } schemaPath) continue;
                seen.Add(schemaPath);
                if (effective.Contains(schemaPath)) continue;
                foreach (var candidate in Candidates(node))
                {
                    string mutated = text.Substring(0, node.Span.Start) + candidate + text.Substring(node.Span.End);
                    if (Generate(path, mutated) is { } output && output != baseline)
                    {
                        effective.Add(schemaPath);
                        break;
                    }
                }
            }
        }

        var language = AllFields().ToList();
        var unwritten = language.Where(f => !seen.Contains(f) && !Inert.ContainsKey(f)).ToList();
        Assert.True(unwritten.Count == 0, "no spec writes " + string.Join(", ", unwritten) + " (add it to a coverage spec)");
        var inert = language.Where(f => seen.Contains(f) && !effective.Contains(f) && !Inert.ContainsKey(f)).ToList();
        Assert.True(inert.Count == 0, "these fields change nothing in the generated code: " + string.Join(", ", inert));
        Assert.All(Inert.Keys, f => Assert.DoesNotContain(f, effective));
    }

    /// <summary>Every leaf field of the language: the fixed sections' fields and every kind's fields (with "kind").</summary>
    private static IEnumerable<string> AllFields()
    {
        var objects = new HashSet<string>(SpecSchema.Fields.Keys, StringComparer.Ordinal);
        foreach (var (obj, fields) in SpecSchema.Fields)
        {
            foreach (var field in fields)
            {
                string path = SpecSchema.Join(obj, field);
                if (objects.Contains(path) || path is "variants" or "heads" or "pretraining_heads" or "attention.biases") continue;
                if (KindRegistry.Slots.Any(s => s.Path == path)) continue;
                yield return path;
            }
        }
        foreach (var slot in KindRegistry.Slots)
        {
            string prefix = slot == KindRegistry.PretrainingHead ? slot.Path + ".*" : slot.Path;
            if (slot == KindRegistry.AttentionBias)
            {
                foreach (var kind in slot.Kinds) foreach (var f in kind.Fields) yield return slot.Path + "." + kind.Name + "." + f.Name;
                continue;
            }
            yield return prefix + ".kind";
            foreach (var f in slot.Kinds.SelectMany(k => k.Fields).Select(f => f.Name).Distinct()) yield return prefix + "." + f;
        }
    }
}
