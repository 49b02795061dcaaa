using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Parity;

/// <summary>
/// Numeric parity with the reference outputs in ../shared/fixtures/models/&lt;variant&gt;/outputs.safetensors: every tensor
/// of every case. Tolerances are the fixtures README's (float32): hidden states, attentions, pooler and head logits
/// atol 1e-5 / rtol 1e-5; MLM logits and attention biases atol 1e-4 / rtol 1e-5; contact maps atol 1e-4.
/// </summary>
public sealed class ParityTests
{
    private const double HiddenAtol = 1e-5, HiddenRtol = 1e-5, LogitsAtol = 1e-4, LogitsRtol = 1e-5, ContactAtol = 1e-4;

    public static IEnumerable<object[]> Variants() => ParityVariants.Supported.Select(v => new object[] { v });

    [Theory]
    [MemberData(nameof(Variants))]
    public void BackboneAndMaskedLMMatchReference(string variant)
    {
        string dir = Fixtures.Models(variant);
        using var checkpoint = Checkpoint.Load(dir, ModelCatalog.Registry);
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "outputs.safetensors"));
        int compared = 0;
        foreach (var @case in FixtureCase.Load(dir))
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var request = OutputRequest.HiddenStates | OutputRequest.Attentions
                | (expected.Contains($"{@case.Name}.attention_biases.0") ? OutputRequest.AttentionBiases : OutputRequest.None);
            using var output = checkpoint.Model.Forward(@case.InputIdsTensor(), @case.AttentionMaskTensor(), request);
            var backbone = output.Backbone;
            void Check(string key, Tensor actual, double atol, double rtol)
            {
                Assert.True(expected.Contains(key), $"outputs.safetensors has no '{key}'");
                using var e = expected.Load(key);
                TensorAssert.Close(e, actual, atol, rtol, $"{variant} {key}");
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
        }
        Assert.True(compared > 10, $"only {compared} tensors compared");
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
            // The task model holds the backbone and one head: the MLM head and the other heads in the files are not its keys.
            var options = new CheckpointLoadOptions { AllowUnexpectedPrefixes = new[] { "lm_head.", "sequence_head.", "token_head.", "contact_head.", "ss_head.", family.Naming.Prefix + ".pooler." } };
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
                TensorAssert.Close(e, output.Logits, HiddenAtol, HiddenRtol, $"{variant} {name}");
                compared++;
            }
        }
        Assert.True(compared >= 3, $"only {compared} head outputs compared");
    }
}

/// <summary>The fixture directories whose families are declared in Definitions/.</summary>
public static class ParityVariants
{
    public static readonly string[] Supported = { "ernierna", "ernierna-legacy", "ernierna-ss", "ncrnabert", "ncrnabert-3mer", "rnaernie", "splicebert", "splicebert.510" };
}
