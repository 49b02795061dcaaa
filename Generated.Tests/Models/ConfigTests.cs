using System.IO;
using System.Text.Json.Nodes;
using RnaLm.Models;
using Xunit;

namespace RnaLm.Tests.Models;

/// <summary>Generated configs: spec defaults, values from config.json override them, unknown fields survive a round trip.</summary>
public sealed class ConfigTests
{
    [Fact]
    public void DefaultsComeFromTheSpecAndVariants()
    {
        var base_ = SpliceBertVariants.SpliceBert;
        Assert.Equal((28, 512, 6, 16, 2048, 1026, 1e-12), (base_.VocabSize, base_.HiddenSize, base_.NumHiddenLayers, base_.NumAttentionHeads, base_.IntermediateSize, base_.MaxPositionEmbeddings, base_.LayerNormEps));
        Assert.Equal(512, SpliceBertVariants.SpliceBert510.MaxPositionEmbeddings);
        Assert.Equal(512, SpliceBertVariants.SpliceBertHuman510.MaxPositionEmbeddings);
        Assert.Equal(131, NcRnaBertVariants.NcRnaBert3Mer.VocabSize);
        Assert.Equal(3, NcRnaBertVariants.NcRnaBert3Mer.Nmers);
        Assert.True(ErnieRnaVariants.ErnieRnaSs.OutputAttentionBiases);
        Assert.Equal(19718656, SpliceBertVariants.SpliceBertParameters);
        Assert.Equal(19455488, SpliceBertVariants.SpliceBert510Parameters);
        Assert.Equal(85669728, ErnieRnaVariants.ErnieRnaParameters);
        Assert.Equal(86063616, RnaErnieVariants.RnaErnieParameters);
        Assert.Equal(303313920, NcRnaBertVariants.NcRnaBertParameters);
    }

    [Fact]
    public void OutputAttentionBiasesInTheConfigReturnsTheCarriedLogitsWithoutBeingAsked()
    {
        string json = File.ReadAllText(Path.Combine(Fixtures.Models("ernierna"), "config.json"));
        var config = ErnieRnaConfig.FromJson(json, "ernierna/config.json");
        using var ids = TorchSharp.torch.tensor(new long[] { 1, 6, 7, 8, 9, 2 }).unsqueeze(0);
        foreach (bool flag in new[] { false, true })
        {
            using var model = new ErnieRnaModel(config with { OutputAttentionBiases = flag });
            model.eval();
            using var output = model.Forward(ids);
            if (flag) Assert.Equal(config.NumHiddenLayers, output.AttentionBiases!.Count);
            else Assert.Null(output.AttentionBiases);
        }
    }

    [Fact]
    public void FileValuesOverrideDefaultsAndUnknownFieldsArePreserved()
    {
        string json = File.ReadAllText(Path.Combine(Fixtures.Models("ernierna-legacy"), "config.json"));
        var config = ErnieRnaConfig.FromJson(json, "ernierna-legacy/config.json");
        Assert.Equal(26, config.VocabSize);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Null(config.LmHead);
        Assert.Equal(1e-12, config.LmHeadLayerNormEps); // lm_head null: follows layer_norm_eps for ERNIE-RNA
        Assert.Equal("gelu", config.LmHeadTransformAct);
        var written = JsonNode.Parse(config.ToJson())!.AsObject();
        var original = JsonNode.Parse(json)!.AsObject();
        foreach (var (key, value) in original)
        {
            Assert.True(written.ContainsKey(key), $"'{key}' was dropped");
            Assert.True(JsonNode.DeepEquals(value, written[key]), $"'{key}' changed: {value?.ToJsonString()} -> {written[key]?.ToJsonString()}");
        }
        Assert.Equal(config, ErnieRnaConfig.FromJson(config.ToJson()) with { ExtensionData = config.ExtensionData, LmHead = config.LmHead, Head = config.Head });
    }

    [Fact]
    public void RnaErnieHeadConfigDecidesTheTransformActivation()
    {
        var current = RnaErnieConfig.FromJson(File.ReadAllText(Path.Combine(Fixtures.Models("rnaernie"), "config.json")));
        Assert.Equal("relu", current.LmHeadTransformAct);
        var legacy = current with { LmHead = null };
        Assert.Equal("gelu", legacy.LmHeadTransformAct);
    }

    [Theory]
    [InlineData("{\"model_type\": \"splicebert\", \"hidden_size\": \"big\"}", "'hidden_size' must be an integer")]
    [InlineData("{\"model_type\": \"splicebert\", \"hidden_size\": 30}", "hidden_size 30 is not divisible by num_attention_heads 16")]
    [InlineData("{\"model_type\": \"rnaernie\"}", "model_type")]
    [InlineData("{\"model_type\": \"splicebert\", \"position_embedding_type\": \"rotary\"}", "position_embedding_type")]
    [InlineData("{\"model_type\": \"splicebert\", \"mask_token_id\": 99}", "mask_token_id 99 is outside the vocabulary")]
    [InlineData("{\"model_type\": \"splicebert\", \"hidden_act\": \"swish2\"}", "hidden_act 'swish2' is not a supported activation")]
    [InlineData("{\"model_type\": \"splicebert\",}", "not valid JSON")]
    public void BadConfigsNameTheFileAndField(string json, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => SpliceBertConfig.FromJson(json, "my/config.json"));
        Assert.Contains("my/config.json", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
