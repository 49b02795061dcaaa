using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnaLm.Heads;
using RnaLm.IO;
using RnaLm.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// The new runtime blocks on their own against the golden fixtures of the ESM and BERT-2 families
/// (FAMILIES-ESM.md, FAMILIES-BERT2.md): each block gets the fixture's own inputs (embeddings, attention maps, last
/// hidden states, pooler output) and the checkpoint's weights, and must reproduce the stored outputs.
/// </summary>
public sealed class BlockFixtureParityTests
{
    private const long Cls = 1, Eos = 2, MaskId = 4;

    private sealed class Holder : nn.Module
    {
        public Holder(nn.Module head) : base("holder") => register_module(head.GetName(), head);
    }

    private sealed record Case(string Name, bool Padded, Tensor InputIds, Tensor AttentionMask);

    private static List<Case> Cases(string variant)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Models(variant), "cases.json")));
        var cases = new List<Case>();
        foreach (var c in document.RootElement.EnumerateArray())
        {
            long[][] Rows(string key) => c.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt64()).ToArray()).ToArray();
            var ids = Rows("input_ids");
            var mask = Rows("attention_mask");
            long[] shape = { ids.Length, ids[0].Length };
            cases.Add(new Case(c.GetProperty("name").GetString()!, c.GetProperty("padded").GetBoolean(),
                tensor(ids.SelectMany(r => r).ToArray(), shape), tensor(mask.SelectMany(r => r).ToArray(), shape)));
        }
        return cases;
    }

    private static Dictionary<string, Tensor> Load(string variant, string file) =>
        SafeTensors.LoadAll(Path.Combine(Fixtures.Models(variant), file));

    /// <summary>Copies the head's parameters from <paramref name="weights"/> (keys prefixed with the head name); a decoder
    /// bias missing from the file is the head's <c>bias</c>, as the checkpoints tie them.</summary>
    private static void LoadHead(nn.Module head, Dictionary<string, Tensor> weights)
    {
        var holder = new Holder(head); // not disposed: that would dispose the head's parameters with it
        using var noGrad = no_grad();
        foreach (var (key, parameter) in holder.state_dict())
        {
            string source = weights.ContainsKey(key) ? key : key.Replace(".decoder.bias", ".bias", StringComparison.Ordinal);
            Assert.True(weights.ContainsKey(source), $"no weights for {key}");
            Assert.Equal(weights[source].shape, parameter.shape);
            parameter.copy_(weights[source]);
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual, double atol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double worst = (actual - expected).abs().sub(expected.abs().mul(1e-5)).max().item<float>();
        Assert.True(worst <= atol, $"{what}: |actual − expected| exceeds atol {atol} + 1e-5·|expected| by up to {worst + atol:G3}");
    }

    [Theory]
    [InlineData("rnafm")]
    [InlineData("mrnafm")]
    [InlineData("utrlm-te_el")]
    [InlineData("utrlm-mrl")]
    public void ContactAttentionHeadReproducesSsLogits(string variant)
    {
        var model = Load(variant, "model.safetensors");
        var outputs = Load(variant, "outputs.safetensors");
        long channels = model["ss_head.decoder.weight"].shape[1];
        using var head = new ContactAttentionHead(channels, 1, Cls, Eos);
        LoadHead(head, model);
        int compared = 0;
        foreach (var c in Cases(variant).Where(c => !c.Padded))
        {
            var attentions = Enumerable.Range(0, int.MaxValue).Select(i => $"{c.Name}.attentions.{i}").TakeWhile(outputs.ContainsKey)
                .Select(k => outputs[k]).ToArray();
            Assert.Equal(channels, attentions.Sum(a => a.shape[1]));
            using var logits = head.Forward(attentions, c.InputIds, c.AttentionMask);
            AssertClose(outputs[$"{c.Name}.ss_logits"], logits, 1e-5, $"{variant}/{c.Name} ss_logits");
            compared++;
        }
        Assert.Equal(3, compared);
    }

    [Theory]
    [InlineData("utrlm-te_el")]
    [InlineData("utrlm-mrl")]
    [InlineData("rinalmo")]
    public void TokenDropoutReproducesTheEmbeddingOutput(string variant)
    {
        // These families' embedding stage is word embedding → token dropout → × attention mask (no positions, no norm).
        var model = Load(variant, "model.safetensors");
        var outputs = Load(variant, "outputs.safetensors");
        var table = model["model.embeddings.word_embeddings.weight"];
        foreach (var c in Cases(variant))
        {
            using var scope = NewDisposeScope();
            var embedded = table.index_select(0, c.InputIds.flatten()).view(c.InputIds.shape[0], c.InputIds.shape[1], -1);
            var dropped = TokenDropout.Apply(embedded, c.InputIds, c.AttentionMask, MaskId);
            var zeroed = dropped * c.AttentionMask.unsqueeze(-1).to_type(dropped.dtype);
            AssertClose(outputs[$"{c.Name}.hidden_states.0"], zeroed, 1e-6, $"{variant}/{c.Name} hidden_states.0");
        }
    }

    [Theory]
    [InlineData("utrbert-3mer", 3)]
    [InlineData("utrbert-4mer", 4)]
    public void KmerTokenHeadReproducesTokenLogits(string variant, int k)
    {
        var heads = Load(variant, "heads.safetensors");
        var outputs = Load(variant, "outputs.safetensors");
        using var head = new TokenKmerPredictionHead(heads["token_head.decoder.weight"].shape[1], 2, Cls, Eos, k);
        LoadHead(head, heads);
        int compared = 0;
        foreach (var c in Cases(variant).Where(c => !c.Padded))
        {
            using var logits = head.call(outputs[$"{c.Name}.last_hidden_state"], c.InputIds, c.AttentionMask);
            Assert.Equal(c.InputIds.shape[1] - 2 + k - 1, logits.shape[1]);
            AssertClose(outputs[$"{c.Name}.token_logits"], logits, 1e-5, $"{variant}/{c.Name} token_logits");
            compared++;
        }
        Assert.Equal(3, compared);
    }

    [Fact]
    public void RnaBertExtraHeadsReproduceSsAndSaLogits()
    {
        var model = Load("rnabert", "model.safetensors");
        var outputs = Load("rnabert", "outputs.safetensors");
        long hidden = model["ss_head.decoder.weight"].shape[1];
        using var ss = new MaskedLMHead(hidden, 8, "gelu", 1e-12, tiedWeight: null, name: "ss_head");
        using var sa = new SequencePredictionHead(hidden, 2, name: "sa_head");
        using var lm = new MaskedLMHead(hidden, 28, "gelu", 1e-12, tiedWeight: null);
        LoadHead(ss, model);
        LoadHead(sa, model);
        LoadHead(lm, model);
        foreach (var c in Cases("rnabert"))
        {
            var last = outputs[$"{c.Name}.last_hidden_state"];
            using var ssLogits = ss.call(last);
            using var saLogits = sa.call(outputs[$"{c.Name}.pooler_output"]);
            using var mlmLogits = lm.call(last);
            AssertClose(outputs[$"{c.Name}.ss_logits"], ssLogits, 1e-4, $"rnabert/{c.Name} ss_logits");
            AssertClose(outputs[$"{c.Name}.sa_logits"], saLogits, 1e-5, $"rnabert/{c.Name} sa_logits");
            AssertClose(outputs[$"{c.Name}.mlm_logits"], mlmLogits, 1e-4, $"rnabert/{c.Name} mlm_logits");
        }
    }

    [Fact]
    public void UtrLmStructureHeadReproducesStructureLogits()
    {
        var model = Load("utrlm-mrl", "model.safetensors");
        var outputs = Load("utrlm-mrl", "outputs.safetensors");
        using var head = new TokenPredictionHead(model["structure_head.decoder.weight"].shape[1], 3, Cls, Eos, name: "structure_head");
        LoadHead(head, model);
        foreach (var c in Cases("utrlm-mrl").Where(c => !c.Padded))
        {
            using var logits = head.call(outputs[$"{c.Name}.last_hidden_state"], c.InputIds, c.AttentionMask);
            AssertClose(outputs[$"{c.Name}.structure_logits"], logits, 1e-5, $"utrlm-mrl/{c.Name} structure_logits");
        }
    }

    [Fact]
    public void RinalmoUntiedMlmHeadReproducesMlmLogits()
    {
        var model = Load("rinalmo", "model.safetensors");
        var outputs = Load("rinalmo", "outputs.safetensors");
        using var head = new MaskedLMHead(48, 28, "gelu", 1e-5, tiedWeight: null);
        LoadHead(head, model);
        foreach (var c in Cases("rinalmo"))
        {
            using var logits = head.call(outputs[$"{c.Name}.last_hidden_state"]);
            AssertClose(outputs[$"{c.Name}.mlm_logits"], logits, 1e-4, $"rinalmo/{c.Name} mlm_logits");
        }
    }
}
