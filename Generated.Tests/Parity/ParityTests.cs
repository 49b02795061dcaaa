using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Parity;

/// <summary>
/// Numeric parity with the reference outputs in ../shared/fixtures/models/&lt;variant&gt;/outputs.safetensors: every tensor
/// of every case. Tolerances are the fixtures README's (float32): hidden states, attentions, pooler and head logits
/// atol 1e-5 / rtol 1e-5; MLM logits and attention biases atol 1e-4 / rtol 1e-5; contact maps atol 1e-4.
/// FAMILIES-BERT2.md adds: contact logits atol 1e-4 for RiNALMo, UTR-BERT and RNABERT, and RNABERT's MLM-style
/// <c>ss_logits</c> at the MLM-logit tolerance.
/// </summary>
public sealed class ParityTests
{
    private const double HiddenAtol = 1e-5, HiddenRtol = 1e-5, LogitsAtol = 1e-4, LogitsRtol = 1e-5, ContactAtol = 1e-4;

    /// <summary>The task-head outputs, compared by <see cref="TaskHeadsMatchReference"/>.</summary>
    private static readonly string[] TaskHeadOutputs = { "sequence_logits", "token_logits", "contact_logits" };

    /// <summary>Families whose contact logits FAMILIES-BERT2.md compares at atol 1e-4.</summary>
    private static readonly string[] ContactAtol4 = { "rinalmo", "utrbert-3mer", "utrbert-4mer", "rnabert" };

    public static IEnumerable<object[]> Variants() => ParityVariants.Supported.Select(v => new object[] { v });

    [Theory]
    [MemberData(nameof(Variants))]
    public void BackboneAndMaskedLMMatchReference(string variant)
    {
        string dir = Fixtures.Models(variant);
        using var checkpoint = Checkpoint.Load(dir, ModelCatalog.Registry);
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "outputs.safetensors"));
        int compared = 0;
        var checkedKeys = new HashSet<string>(System.StringComparer.Ordinal);
        foreach (var @case in FixtureCase.Load(dir))
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var request = OutputRequest.HiddenStates | OutputRequest.Attentions | OutputRequest.PretrainingHeads
                | (expected.Contains($"{@case.Name}.attention_biases.0") ? OutputRequest.AttentionBiases : OutputRequest.None);
            using var output = checkpoint.Model.Forward(@case.InputIdsTensor(), @case.AttentionMaskTensor(), request);
            var backbone = output.Backbone;
            void Check(string key, Tensor actual, double atol, double rtol)
            {
                Assert.True(expected.Contains(key), $"outputs.safetensors has no '{key}'");
                using var e = expected.Load(key);
                TensorAssert.Close(e, actual, atol, rtol, $"{variant} {key}");
                checkedKeys.Add(key);
                compared++;
            }
            Check($"{@case.Name}.last_hidden_state", backbone.LastHiddenState, HiddenAtol, HiddenRtol);
            Check($"{@case.Name}.mlm_logits", output.Logits, LogitsAtol, LogitsRtol);
            for (int i = 0; i < backbone.HiddenStates!.Count; i++)
            {
                Check($"{@case.Name}.hidden_states.{i}", backbone.HiddenStates[i], HiddenAtol, HiddenRtol);
            }
            Assert.False(expected.Contains($"{@case.Name}.hidden_states.{backbone.HiddenStates.Count}"), "fewer hidden states than the reference");
            for (int i = 0; i < backbone.Attentions!.Count; i++)
            {
                Check($"{@case.Name}.attentions.{i}", backbone.Attentions[i], HiddenAtol, HiddenRtol);
            }
            Assert.False(expected.Contains($"{@case.Name}.attentions.{backbone.Attentions.Count}"), "fewer attention maps than the reference");
            if (backbone.AttentionBiases is { } biases)
            {
                for (int i = 0; i < biases.Count; i++) Check($"{@case.Name}.attention_biases.{i}", biases[i], LogitsAtol, LogitsRtol);
            }
            if (checkpoint.Model is IRnaStructureModel structure && expected.Contains($"{@case.Name}.contact_map"))
            {
                using var predicted = structure.Predict(@case.InputIdsTensor(), @case.AttentionMaskTensor());
                Check($"{@case.Name}.contact_map", predicted.ContactMap, ContactAtol, 0);
            }
            if (expected.Contains($"{@case.Name}.pooler_output"))
            {
                Assert.NotNull(backbone.PoolerOutput);
                Check($"{@case.Name}.pooler_output", backbone.PoolerOutput!, HiddenAtol, HiddenRtol);
            }
            if (output.Heads is { } heads)
            {
                foreach (var (name, logits) in heads)
                {
                    string key = $"{@case.Name}.{name}";
                    // A head the reference gives for unpadded cases only (ss_logits of the contact head, token heads).
                    if (!expected.Contains(key) && @case.Padded) continue;
                    bool mlmLike = variant == "rnabert" && name == "ss_logits";
                    Check(key, logits, mlmLike ? LogitsAtol : HiddenAtol, mlmLike ? LogitsRtol : HiddenRtol);
                }
            }
            // Every expected tensor of this case was compared here, except the task heads' (TaskHeadsMatchReference).
            var left = expected.Tensors.Select(t => t.Name).Where(k => k.StartsWith(@case.Name + ".", System.StringComparison.Ordinal) && !checkedKeys.Contains(k)
                && !TaskHeadOutputs.Any(t => k == @case.Name + "." + t)).ToList();
            Assert.True(left.Count == 0, $"{variant}: outputs.safetensors has tensors no test compares: {string.Join(", ", left)}");
        }
        Assert.True(compared > 10, $"only {compared} tensors compared");
    }

    /// <summary>
    /// Without attentions requested the generated attention takes its other path (a fused kernel where the spec allows
    /// it and the scores are large, else the explicit product without keeping probabilities) and the encoder frees each
    /// layer's tensors as it goes: the outputs must not change. Checked on both paths, with no optional output and with
    /// hidden states only.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void WithoutAttentionsRequestedTheOutputsMatchReference(string variant)
    {
        string dir = Fixtures.Models(variant);
        using var checkpoint = Checkpoint.Load(dir, ModelCatalog.Registry);
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "outputs.safetensors"));
        int compared = 0;
        foreach (var (@case, request, fused) in
                 from c in FixtureCase.Load(dir)
                 from r in new[] { OutputRequest.None, OutputRequest.HiddenStates }
                 from f in new[] { true, false }
                 select (c, r, f))
        {
            {
                using var path = AttentionPaths.Force(fused);
                using var scope = NewDisposeScope();
                using var _ = inference_mode();
                using var output = checkpoint.Model.Forward(@case.InputIdsTensor(), @case.AttentionMaskTensor(), request);
                void Check(string key, Tensor actual, double atol, double rtol)
                {
                    using var e = expected.Load(key);
                    TensorAssert.Close(e, actual, atol, rtol, $"{variant} {key} ({request}, {(fused ? "fused" : "explicit")} attention)");
                    compared++;
                }
                Assert.Null(output.Backbone.Attentions);
                Check($"{@case.Name}.last_hidden_state", output.Backbone.LastHiddenState, HiddenAtol, HiddenRtol);
                Check($"{@case.Name}.mlm_logits", output.Logits, LogitsAtol, LogitsRtol);
                if (request == OutputRequest.HiddenStates)
                {
                    for (int i = 0; i < output.Backbone.HiddenStates!.Count; i++)
                    {
                        Check($"{@case.Name}.hidden_states.{i}", output.Backbone.HiddenStates[i], HiddenAtol, HiddenRtol);
                    }
                }
                else
                {
                    Assert.Null(output.Backbone.HiddenStates);
                }
            }
        }
        Assert.True(compared > 12, $"only {compared} tensors compared");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void TaskHeadsMatchReference(string variant)
    {
        string dir = Fixtures.Models(variant);
        var (family, config) = Checkpoint.ReadConfig(dir, ModelCatalog.Registry);
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "outputs.safetensors"));
        var files = new[] { Path.Combine(dir, "model.safetensors"), Path.Combine(dir, "heads.safetensors") };
        int compared = 0;
        foreach (var (task, key, labels) in new[] { (PredictionTask.Sequence, "sequence_logits", 3), (PredictionTask.Token, "token_logits", 2), (PredictionTask.Contact, "contact_logits", 1) })
        {
            var model = family.CreatePredictionModel(config, task, labels);
            using var module = model.Module;
            // The task model holds the backbone and one head: the MLM head, the pre-training heads and the other task heads in
            // the files are not its keys.
            var options = new CheckpointLoadOptions { AllowUnexpectedPrefixes = OtherModules(files, family.Naming.Prefix).Append(family.Naming.Prefix + ".pooler.").ToArray() };
            Checkpoint.LoadWeights(module, family.Naming, files, options);
            module.eval();
            foreach (var @case in FixtureCase.Load(dir))
            {
                string name = $"{@case.Name}.{key}";
                if (!expected.Contains(name)) continue;
                using var scope = NewDisposeScope();
                using var _ = inference_mode();
                using var output = model.Forward(@case.InputIdsTensor(), @case.AttentionMaskTensor());
                using var e = expected.Load(name);
                double atol = task == PredictionTask.Contact && ContactAtol4.Contains(variant) ? ContactAtol : HiddenAtol;
                TensorAssert.Close(e, output.Logits, atol, HiddenRtol, $"{variant} {name}");
                compared++;
            }
        }
        Assert.True(compared >= 3, $"only {compared} head outputs compared");
    }

    /// <summary>The top-level module names of the weight files other than the backbone's ("lm_head.", "ss_head.", ...).</summary>
    private static IEnumerable<string> OtherModules(IEnumerable<string> files, string backbonePrefix)
    {
        var names = new SortedSet<string>(System.StringComparer.Ordinal);
        foreach (var file in files)
        {
            using var weights = SafeTensorsFile.Open(file);
            foreach (var tensor in weights.Tensors)
            {
                string first = tensor.Name.Split('.')[0];
                if (first != backbonePrefix) names.Add(first + ".");
            }
        }
        return names;
    }
}

/// <summary>The fixture directories whose families are declared in Definitions/.</summary>
public static class ParityVariants
{
    public static readonly string[] Supported =
    {
        "calm", "ernierna", "ernierna-legacy", "ernierna-ss", "mrnafm", "ncrnabert", "ncrnabert-3mer", "rinalmo", "rnabert", "rnaernie",
        "rnafm", "splicebert", "splicebert.510", "utrbert-3mer", "utrbert-4mer", "utrlm-mrl", "utrlm-te_el",
    };
}
