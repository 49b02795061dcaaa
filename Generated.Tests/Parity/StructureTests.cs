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

    private static Dictionary<string, long[]> ExpectedKeys(JsonElement list) =>
        list.EnumerateArray().ToDictionary(e => e[0].GetString()!, e => e[1].EnumerateArray().Select(x => x.GetInt64()).ToArray());

    private static void AssertSameKeys(Dictionary<string, long[]> expected, Dictionary<string, Tensor> actual, string what)
    {
        var missing = expected.Keys.Except(actual.Keys).OrderBy(k => k).ToList();
        var extra = actual.Keys.Except(expected.Keys).OrderBy(k => k).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{what}: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}]");
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
            AssertSameKeys(ExpectedKeys(root.GetProperty("pretraining_model").GetProperty("state_dict")), module.state_dict(), variant);
            foreach (var tied in root.GetProperty("pretraining_model").GetProperty("tied").EnumerateObject())
            {
                Assert.Contains(family.Naming.Tied, t => t.Key == tied.Name && t.Source == tied.Value.GetString());
                var sd = module.state_dict();
                using (no_grad()) sd[tied.Value.GetString()!].fill_(0.25f); // the same storage, not a copy
                Assert.True(sd[tied.Name].eq(0.25f).all().item<bool>(), $"{tied.Name} is not tied to {tied.Value.GetString()}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void BackboneParameterCountsAgree(string variant)
    {
        var (root, family, config) = Read(variant, out var doc);
        using (doc)
        {
            var baseModel = root.GetProperty("base_model");
            long published = baseModel.GetProperty("num_parameters_excluding_rotary_freqs").GetInt64();
            var task = family.CreatePredictionModel(config, PredictionTask.Sequence, 1);
            using var module = task.Module;
            var backbone = module.named_children().Single(c => c.name == family.Naming.Prefix).module;
            AssertSameKeys(ExpectedKeys(baseModel.GetProperty("state_dict")), backbone.state_dict(), variant + " base model");
            var unique = new HashSet<System.IntPtr>();
            long counted = backbone.parameters().Where(p => unique.Add(p.Handle) && p.requires_grad).Sum(p => p.numel());
            Assert.Equal(published, counted);
            var v = ModelCatalog.Registry.GetVariant(root.GetProperty("variant").GetString()!);
            Assert.Equal(published, v.Parameters);
        }
    }
}

/// <summary>The structure fixtures whose families are declared in Definitions/.</summary>
public static class StructureVariants
{
    public static readonly string[] Supported = { "splicebert", "splicebert.510" };
}
