using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json.Nodes;
using RnaLm.Models;
using Xunit;
using static RnaLm.Tests.Generator.SpecTestKit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// The MLM head settings a config carries: what a variant overrides reaches its config, and a spec can make new
/// configs write MultiMolecule's current <c>lm_head</c> while <c>lm_head: null</c> in older files keeps its old meaning.
/// </summary>
public sealed class MlmHeadSpecTests
{
    /// <summary>Generates, compiles and loads (in a collectible context) the code of one spec.</summary>
    private static Assembly Load(string spec)
    {
        var (result, output) = GeneratorHarness.Run(new[] { new InMemoryAdditionalText(TestPath, spec) });
        Assert.Empty(GeneratorHarness.Describe(result.Diagnostics));
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error)));
        image.Position = 0;
        return new AssemblyLoadContext("mlm-head-spec-" + Guid.NewGuid().ToString("N"), isCollectible: true).LoadFromStream(image);
    }

    private static IModelConfig Variant(Assembly assembly, string member) =>
        (IModelConfig)assembly.GetType("RnaLm.Models.TinyVariants", throwOnError: true)!.GetProperty(member)!.GetValue(null)!;

    private static T Get<T>(IModelConfig config, string property) => (T)config.GetType().GetProperty(property)!.GetValue(config)!;

    [Fact]
    public void AVariantsMlmHeadOverridesReachItsConfig()
    {
        var assembly = Load(Tiny(
            ("mlm_head", "{ \"transform_activation\": \"gelu\", \"layer_norm_eps\": 1e-12 }"),
            ("variants", "{ \"tiny\": {}, \"tiny.relu\": { \"mlm_head\": { \"transform_activation\": \"relu\", \"layer_norm_eps\": 1e-5 } }, \"tiny.act\": { \"feed_forward\": { \"activation\": \"silu\" }, \"mlm_head\": { \"transform_activation\": \"hidden_act\" } } }")));
        var family = Variant(assembly, "Tiny");
        Assert.Equal("gelu", Get<string>(family, "LmHeadTransformAct"));
        Assert.Equal(1e-12, Get<double>(family, "LmHeadLayerNormEps"));
        Assert.Null(Get<JsonObject?>(family, "LmHead"));

        var relu = Variant(assembly, "TinyRelu");
        Assert.Equal("relu", Get<string>(relu, "LmHeadTransformAct"));
        Assert.Equal(1e-5, Get<double>(relu, "LmHeadLayerNormEps"));
        // Written to config.json, so MultiMolecule (and a reload) build the same head.
        var written = JsonNode.Parse(relu.ToJson())!["lm_head"]!.AsObject();
        Assert.Equal("relu", written["transform_act"]!.GetValue<string>());
        Assert.Equal(1e-5, written["layer_norm_eps"]!.GetValue<double>());

        var act = Variant(assembly, "TinyAct");
        Assert.Equal("silu", Get<string>(act, "LmHeadTransformAct"));
        Assert.Equal(1e-12, Get<double>(act, "LmHeadLayerNormEps"));
    }

    [Fact]
    public void NewConfigsWriteTheCurrentLmHeadAndOlderFilesKeepTheirMeaning()
    {
        // RNAErnie (models.md): a new config's lm_head follows hidden_act (relu); lm_head: null in older files is gelu.
        var fresh = new RnaErnieConfig();
        Assert.Equal("relu", fresh.HiddenAct);
        Assert.Equal("relu", fresh.LmHeadTransformAct);
        Assert.Equal("relu", JsonNode.Parse(fresh.ToJson())!["lm_head"]!["transform_act"]!.GetValue<string>());

        var legacy = JsonNode.Parse(fresh.ToJson())!.AsObject();
        legacy["lm_head"] = null;
        Assert.Equal("gelu", RnaErnieConfig.FromJson(legacy.ToJsonString()).LmHeadTransformAct);
        var missing = JsonNode.Parse(fresh.ToJson())!.AsObject();
        missing.Remove("lm_head");
        Assert.Equal("relu", RnaErnieConfig.FromJson(missing.ToJsonString()).LmHeadTransformAct);
        Assert.Equal("relu", RnaErnieConfig.FromJson(fresh.ToJson()).LmHeadTransformAct);

        // The same in a spec of one's own, resolved against each variant's hidden_act.
        var assembly = Load(Tiny(
            ("feed_forward", "{ \"activation\": \"relu\" }"),
            ("mlm_head", "{ \"transform_activation\": \"gelu\", \"new_config_activation\": \"hidden_act\" }"),
            ("variants", "{ \"tiny\": {}, \"tiny.silu\": { \"feed_forward\": { \"activation\": \"silu\" } } }")));
        Assert.Equal("relu", Get<string>(Variant(assembly, "Tiny"), "LmHeadTransformAct"));
        Assert.Equal("silu", Get<string>(Variant(assembly, "TinySilu"), "LmHeadTransformAct"));
    }
}
