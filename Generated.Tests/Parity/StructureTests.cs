using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnaLm.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Parity;

/// <summary>
/// The generated modules built at full published size have exactly the state-dict keys, shapes and parameter counts
/// of ../shared/fixtures/structure/&lt;variant&gt;.json, and the compile-time counts agree.
/// </summary>
public sealed class StructureTests
{
    public static IEnumerable<object[]> Variants() => StructureVariants.Supported.Select(v => new object[] { v });

    private static (JsonElement Root, IModelFamily Family, IModelConfig Config) Read(string variant, out JsonDocument doc)
    {
        doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.SharedDir, "fixtures", "structure", variant + ".json")));
        var root = doc.RootElement;
        string configJson = root.GetProperty("config").GetRawText();
        var family = ModelCatalog.Registry.GetFamily(root.GetProperty("config").GetProperty("model_type").GetString()!);
        return (root, family, family.ReadConfig(configJson, variant + ".json"));
    }

    /// <summary>The fixture's keys as the loader reads them (legacy prefixes and names normalised by the family's naming).</summary>
    private static Dictionary<string, long[]> ExpectedKeys(JsonElement list, Func<string, string> normalize) =>
        list.EnumerateArray().ToDictionary(e => normalize(e[0].GetString()!), e => e[1].EnumerateArray().Select(x => x.GetInt64()).ToArray());

    private static void AssertSameKeys(Dictionary<string, long[]> expected, Dictionary<string, Tensor> actual, string what)
    {
        var missing = expected.Keys.Except(actual.Keys).OrderBy(k => k).ToList();
        var extra = actual.Keys.Except(expected.Keys).OrderBy(k => k).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{what}: {missing.Count} missing [{string.Join(", ", missing.Take(10))}], {extra.Count} unexpected [{string.Join(", ", extra.Take(10))}]");
        foreach (var (key, shape) in expected)
        {
            Assert.True(shape.SequenceEqual(actual[key].shape), $"{what} {key}: [{string.Join(", ", actual[key].shape)}], expected [{string.Join(", ", shape)}]");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void PretrainingModelHasPublishedKeysAndShapes(string variant)
    {
        var (root, family, config) = Read(variant, out var doc);
        using (doc)
        {
            var model = family.CreatePreTrainingModel(config);
            using var module = model.Module;
            AssertSameKeys(ExpectedKeys(root.GetProperty("pretraining_model").GetProperty("state_dict"), family.Naming.Normalize), module.state_dict(), variant);
            foreach (var tied in root.GetProperty("pretraining_model").GetProperty("tied").EnumerateObject())
            {
                string key = family.Naming.Normalize(tied.Name), source = family.Naming.Normalize(tied.Value.GetString()!);
                Assert.Contains(family.Naming.Tied, t => t.Key == key && t.Source == source);
                var sd = module.state_dict();
                using (no_grad()) sd[source].fill_(0.25f); // the same storage, not a copy
                Assert.True(sd[key].eq(0.25f).all().item<bool>(), $"{key} is not tied to {source}");
            }
        }
    }

    [Fact]
    public void EveryStructureFixtureIsCovered()
    {
        var present = Directory.GetFiles(Path.Combine(Fixtures.SharedDir, "fixtures", "structure"), "*.json")
            .Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal);
        Assert.Equal(present, StructureVariants.Supported.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void BackboneParameterCountsAgree(string variant)
    {
        var (root, family, config) = Read(variant, out var doc);
        using (doc)
        {
            var baseModel = root.GetProperty("base_model");
            // ncRNABert's files also count its stored rotary freqs in num_parameters; the others carry only num_parameters.
            long published = (baseModel.TryGetProperty("num_parameters_excluding_rotary_freqs", out var excluding) ? excluding : baseModel.GetProperty("num_parameters")).GetInt64();
            var task = family.CreatePredictionModel(config, PredictionTask.Sequence, 1);
            using var module = task.Module;
            var backbone = module.named_children().Single(c => c.name == family.Naming.Prefix).module;
            string prefix = family.Naming.Prefix + ".";
            AssertSameKeys(ExpectedKeys(baseModel.GetProperty("state_dict"), k => family.Naming.Normalize(prefix + k).Substring(prefix.Length)),
                backbone.state_dict(), variant + " base model");
            var unique = new HashSet<System.IntPtr>();
            long counted = backbone.parameters().Where(p => unique.Add(p.Handle) && p.requires_grad).Sum(p => p.numel());
            Assert.Equal(published, counted);
            Assert.Equal(published, config.CountBackboneParameters());
            // A registered variant's compile-time constant agrees too (ernierna-legacy is a checkpoint history, not a variant).
            string name = root.GetProperty("variant").GetString()!;
            if (ModelCatalog.Registry.Variants.Any(x => x.Name == name)) Assert.Equal(published, ModelCatalog.Registry.GetVariant(name).Parameters);
        }
    }
}

/// <summary>The structure fixtures: every file of ../shared/fixtures/structure (<see cref="StructureTests.EveryStructureFixtureIsCovered"/>).</summary>
public static class StructureVariants
{
    public static readonly string[] Supported =
    {
        "calm", "ernierna", "ernierna-legacy", "ernierna-ss", "mrnafm", "ncrnabert", "ncrnabert-3mer", "rinalmo-giga", "rinalmo-mega",
        "rinalmo-micro", "rnabert", "rnaernie", "rnafm", "splicebert", "splicebert.510", "utrbert-3mer", "utrbert-4mer", "utrbert-5mer",
        "utrbert-6mer", "utrlm-mrl", "utrlm-te_el",
    };
}
