using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Spec;
using RnaLm.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Generator;

/// <summary>
/// Every kind of every slot, in small specs that combine them in ways no shipped family does: each spec is generated,
/// compiled, loaded and run (every variant, the masked LM with every optional output, every task head), and the modules'
/// state dicts equal what the kinds' parameter declarations say (the formula behind the parameter counts).
/// </summary>
public sealed class KindCoverageTests
{
    private const string Common = """
          "pooler": { "in_checkpoint": true },
          "heads": {
            "sequence": { "transform": "nonlinear", "transform_activation": "tanh", "layer_norm_eps": 1e-7 },
            "token": { "transform": "nonlinear", "transform_activation": "silu", "layer_norm_eps": 1e-6 },
            "contact": { "transform": "nonlinear", "transform_activation": "relu", "layer_norm_eps": 1e-6 }
          },
          "checkpoint": { "prefix": "model", "tied": [ { "key": "lm_head.decoder.weight", "source": "model.embeddings.word_embeddings.weight" } ] }
        """;

    /// <summary>Name → spec text. Together they use every kind (<see cref="TheSpecsUseEveryKindOfEverySlot"/>).</summary>
    public static readonly IReadOnlyDictionary<string, string> Specs = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        // Post-norm BERT with the pair prior, learned positions, a masked-LM and a sequence pre-training head.
        ["covpost"] = """
            {
              "spec_version": 2, "name": "covpost", "type_name": "CovPost",
              "dims": { "hidden": 32, "layers": 2, "heads": 4, "intermediate": 48, "max_positions": 40 },
              "norm": { "kind": "layer_norm", "eps": 1e-12 },
              "layer": "post_norm",
              "position": "learned",
              "embeddings": { "token_type": { "size": 2, "added": true }, "layer_norm": true },
              "attention": { "softmax": "keys", "biases": { "pair_prior": { "alpha": 0.5, "activation": "relu" } } },
              "feed_forward": { "kind": "mlp", "activation": "gelu" },
              "mlm_head": { "transform_activation": "relu", "bias": false },
              "output_attention_biases": false,
              "architecture": "masked_lm",
              "pretraining_heads": {
                "ss_head": { "kind": "masked_lm", "num_labels": 5, "output": "ss_logits", "layer_norm_eps": 1e-6 },
                "sa_head": { "kind": "sequence", "num_labels": 2, "output": "sa_logits" }
              },
              "pooler": { "in_checkpoint": true },
              "heads": { "sequence": {}, "token": {}, "contact": {}, "secondary_structure": { "attention_head": 1, "channels": 4, "blocks": 1, "kernel_size": 3 } },
              "checkpoint": { "prefix": "model", "tied": [ { "key": "lm_head.decoder.weight", "source": "model.embeddings.word_embeddings.weight" } ] },
              "variants": { "covpost": {}, "covpost-wide": { "dims": { "hidden": 48, "heads": 6 }, "attention": { "biases": { "pair_prior": { "alpha": 0.9 } } } } }
            }
            """,
        // RMSNorm, pre-norm, whole-head split-half rotary, softmax over queries, SwiGLU with β,
        // config-switched embedding norm and token dropout, a codon variant, contact-attention and optional token heads.
        ["covpre"] = """
            {
              "spec_version": 2, "name": "covpre", "type_name": "CovPre",
              "dims": { "hidden": 32, "layers": 2, "heads": 4, "intermediate": 60 },
              "norm": { "kind": "rms_norm", "eps": 1e-6, "final": "emb_layer_norm_after" },
              "layer": "pre_norm",
              "position": { "kind": "rotary", "interleaved": false, "stored_frequencies": false },
              "embeddings": {
                "token_type": null,
                "layer_norm": { "config": "embed_norm", "default": true },
                "token_dropout": { "config": "token_dropout", "default": true },
                "zero_pad": true
              },
              "attention": { "qkv_bias": false, "output_bias": false, "softmax": "queries" },
              "feed_forward": { "kind": "gated", "activation": "gelu", "gate": "swish_beta", "width": "two_thirds" },
              "pretraining_heads": {
                "ss_head": { "kind": "contact_attention", "output": "ss_logits" },
                "structure_head": { "kind": "token", "num_labels": 3, "output": "structure_logits", "optional": true, "present": true }
              },
              "tokenizer": { "alphabet": "rna-streamline", "model_max_length": 60 },
            """ + Common + """
            ,
              "variants": {
                "covpre": {},
                "covpre-codon": { "tokenizer": { "segmentation": "codon" }, "embeddings": { "layer_norm": false, "token_dropout": false },
                                  "pretraining_heads": { "structure_head": { "present": false } } }
              }
            }
            """,
        // RiNALMo's normed residual with fairseq-offset learned positions, a fused gated block and a k-mer token head.
        ["covres"] = """
            {
              "spec_version": 2, "name": "covres", "type_name": "CovRes",
              "dims": { "hidden": 24, "layers": 3, "heads": 2, "intermediate": 40, "max_positions": 40 },
              "norm": { "kind": "layer_norm", "eps": 1e-5, "final": "layer_norm" },
              "layer": "pre_norm_normed_residual",
              "position": { "kind": "offset_learned", "offset": 1 },
              "embeddings": { "token_type": null, "layer_norm": false, "token_dropout": true, "zero_pad": true },
              "feed_forward": { "kind": "fused_gated", "activation": "silu", "bias": false },
              "heads": { "sequence": {}, "token": { "unfold_kmers": true }, "contact": {} },
              "tokenizer": { "alphabet": "rna-streamline", "segmentation": { "kind": "kmer", "k": 3 } },
              "pooler": { "in_checkpoint": false },
              "checkpoint": { "prefix": "model" },
              "variants": { "covres": {}, "covres-2mer": { "tokenizer": { "segmentation": { "kind": "kmer", "k": 2 } } } }
            }
            """,
        // Sinusoidal positions with a gate that uses hidden_act, and a DNA alphabet.
        ["covsin"] = """
            {
              "spec_version": 2, "name": "covsin", "type_name": "CovSin",
              "dims": { "hidden": 16, "layers": 1, "heads": 2, "intermediate": 32, "max_positions": 64 },
              "norm": { "eps": 1e-5 },
              "position": { "kind": "sinusoidal", "padding_aware": false, "offset": 2 },
              "feed_forward": { "kind": "gated", "activation": "silu", "gate": "activation", "width": "intermediate" },
              "tokenizer": { "alphabet": "dna-streamline", "t_to_u": false, "u_to_t": true },
            """ + Common + """
            }
            """,
        // No positions at all and a tanh MLP: the simplest backbone, with a GELU pooler.
        ["covnone"] = """
            {
              "spec_version": 2, "name": "covnone", "type_name": "CovNone", "namespace": "RnaLm.Coverage",
              "dims": { "hidden": 16, "layers": 1, "heads": 2, "intermediate": 16 },
              "norm": { "eps": 1e-5 },
              "layer": "pre_norm",
              "position": "none",
              "feed_forward": { "activation": "tanh" },
              "pooler": { "in_checkpoint": true, "activation": "gelu" },
              "checkpoint": { "prefix": "model" }
            }
            """,
        // Partial, stored, interleaved rotary (ncRNABert's) with an MLP.
        ["covrot"] = """
            {
              "spec_version": 2, "name": "covrot", "type_name": "CovRot",
              "dims": { "hidden": 32, "layers": 1, "heads": 2, "intermediate": 32, "max_positions": 64 },
              "norm": { "eps": 1e-5, "final": "layer_norm" },
              "layer": "pre_norm",
              "position": { "kind": "rotary", "dim": 8, "interleaved": true, "stored_frequencies": true },
              "feed_forward": { "activation": "gelu" },
              "pooler": { "in_checkpoint": false },
              "checkpoint": { "prefix": "model" }
            }
            """,
    };

    public static IEnumerable<object[]> SpecNames() => Specs.Keys.Select(k => new object[] { k });

    private static ModelSpec Parse(string name)
    {
        var parsed = SpecParser.Parse("/specs/" + name + ".model.json", SourceText.From(Specs[name]), CancellationToken.None);
        Assert.True(parsed.Spec is not null && parsed.Diagnostics.All(d => d.Descriptor.DefaultSeverity != Microsoft.CodeAnalysis.DiagnosticSeverity.Error),
            name + ": " + SpecTestKit.Dump(parsed.Diagnostics));
        return parsed.Spec!;
    }

    private static IEnumerable<KindSpec> KindsOf(ModelSpec spec) =>
        new[] { spec.Norm, spec.Layer, spec.Position, spec.Attention.Softmax, spec.FeedForward }
            .Concat(spec.Attention.Biases)
            .Concat(spec.PretrainingHeads.Select(h => h.Head))
            .Concat(spec.Variants.Select(v => v.Tokenizer.Segmentation));

    [Fact]
    public void TheSpecsUseEveryKindOfEverySlot()
    {
        var used = Specs.Keys.SelectMany(n => KindsOf(Parse(n))).Select(k => k.SlotPath + ":" + k.KindName).ToHashSet(StringComparer.Ordinal);
        var all = KindRegistry.Slots.SelectMany(s => s.Kinds.Select(k => s.Path + ":" + k.Name)).ToList();
        var missing = all.Where(k => !used.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "no coverage spec uses " + string.Join(", ", missing));
    }

    /// <summary>Generates, compiles and loads (in a collectible context) the code of one spec.</summary>
    private static Assembly Load(string name)
    {
        var (result, output) = GeneratorHarness.Run(new[] { new InMemoryAdditionalText("/specs/" + name + ".model.json", Specs[name]) });
        Assert.DoesNotContain(GeneratorHarness.Describe(result.Diagnostics), d => !d.Contains(" Warning ", StringComparison.Ordinal));
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error)));
        image.Position = 0;
        return new AssemblyLoadContext("kind-coverage-" + name + "-" + Guid.NewGuid().ToString("N"), isCollectible: true).LoadFromStream(image);
    }

    [Theory]
    [MemberData(nameof(SpecNames))]
    public void EverySpecCompilesAndRunsAForwardPassInEveryVariant(string name)
    {
        var spec = Parse(name);
        var assembly = Load(name);
        var family = (IModelFamily)assembly.GetType(spec.Namespace + "." + spec.TypeName + "Family", throwOnError: true)!
            .GetProperty("Instance")!.GetValue(null)!;
        Assert.Equal(spec.Variants.Count, family.Variants.Count);
        foreach (var variant in family.Variants)
        {
            var variantSpec = spec.Variants.Single(v => v.Name == variant.Name);
            var tokenizer = variant.CreateTokenizer();
            // Codon vocabularies need whole codons; every text holds a <mask> and the batch is padded.
            string[] texts = variantSpec.Tokenizer.Codon ? new[] { "ACGUACGAA<mask>UGG", "GGC" } : new[] { "ACGUAC<mask>GUACGU", "GGCUA" };
            if (variantSpec.Tokenizer.UToT) texts = texts.Select(t => t.Replace('U', 'T')).ToArray();
            var batch = tokenizer.EncodeBatch(texts, new RnaLm.Tokenization.EncodeOptions { Padding = RnaLm.Tokenization.PaddingStrategy.Longest });
            using var ids = tensor(batch.InputIds.SelectMany(r => r.Select(x => (long)x)).ToArray(), new long[] { texts.Length, batch.InputIds[0].Length });
            using var mask = tensor(batch.AttentionMask.SelectMany(r => r.Select(x => (long)x)).ToArray(), new long[] { texts.Length, batch.AttentionMask[0].Length });
            long length = ids.shape[1];

            manual_seed(7);
            var model = family.CreatePreTrainingModel(variant.Config);
            using (model.Module)
            {
                model.Module.eval();
                using var scope = NewDisposeScope();
                using var _ = inference_mode();
                var request = OutputRequest.HiddenStates | OutputRequest.Attentions | OutputRequest.PretrainingHeads
                    | (spec.CarriesLogits ? OutputRequest.AttentionBiases : OutputRequest.None);
                using var output = model.Forward(ids, mask, request);
                Assert.Equal(new[] { texts.Length, length, (long)variant.Config.VocabSize }, output.Logits.shape);
                Assert.True(output.Logits.isfinite().all().item<bool>(), variant.Name + ": non-finite MLM logits");
                Assert.Equal(variant.Config.NumHiddenLayers + 1, output.Backbone.HiddenStates!.Count);
                Assert.Equal(variant.Config.NumHiddenLayers, output.Backbone.Attentions!.Count);
                if (spec.CarriesLogits) Assert.Equal(variant.Config.NumHiddenLayers, output.Backbone.AttentionBiases!.Count);
                var expectedHeads = spec.PretrainingHeads
                    .Where(h => h.Output is not null && (!h.Optional || variantSpec.SwitchValue(h.Key, true)))
                    .Select(h => h.Output!).OrderBy(o => o, StringComparer.Ordinal);
                Assert.Equal(expectedHeads, (output.Heads?.Keys ?? Enumerable.Empty<string>()).OrderBy(o => o, StringComparer.Ordinal));
                foreach (var (head, logits) in output.Heads ?? new Dictionary<string, Tensor>())
                {
                    Assert.True(logits.isfinite().all().item<bool>(), $"{variant.Name} {head}: non-finite");
                }
                // Without attentions requested, the layers keep no probabilities.
                using var plain = model.Forward(ids, mask);
                Assert.Null(plain.Backbone.Attentions);
                TensorAssertions.Close(output.Logits, plain.Logits, 1e-6);
            }

            var declaredTasks = new[] { (PredictionTask.Sequence, spec.SequenceHead), (PredictionTask.Token, spec.TokenHead), (PredictionTask.Contact, spec.ContactHead) }
                .Where(t => t.Item2 is not null).Select(t => t.Item1);
            foreach (var task in declaredTasks)
            {
                manual_seed(7);
                var prediction = family.CreatePredictionModel(variant.Config, task, 3);
                using (prediction.Module)
                {
                    prediction.Module.eval();
                    using var scope = NewDisposeScope();
                    using var _ = inference_mode();
                    using var output = prediction.Forward(ids, mask);
                    Assert.Equal(3, output.Logits.shape[^1]);
                    Assert.True(output.Logits.isfinite().all().item<bool>(), $"{variant.Name} {task}: non-finite");
                    if (task == PredictionTask.Token && spec.TokenHead is { UnfoldKmers: true })
                    {
                        // One row per nucleotide: L − 2 k-mer rows unfold to L − 2 + k − 1.
                        Assert.Equal(length - 2 + variantSpec.Tokenizer.Nmers - 1, output.Logits.shape[1]);
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(SpecNames))]
    public void TheBackboneStateDictIsWhatTheKindsDeclare(string name)
    {
        var spec = Parse(name);
        var assembly = Load(name);
        var family = (IModelFamily)assembly.GetType(spec.Namespace + "." + spec.TypeName + "Family", throwOnError: true)!
            .GetProperty("Instance")!.GetValue(null)!;
        foreach (var variantSpec in spec.Variants)
        {
            var variant = family.Variants.Single(v => v.Name == variantSpec.Name);
            var values = ModelParameters.Values(spec, variantSpec);
            var declared = new Dictionary<string, long[]>(StringComparer.Ordinal);
            foreach (var p in ModelParameters.Backbone(spec))
            {
                if (p.Condition is { } condition && values[condition] == 0) continue;
                long[] shape = p.Shape.Select(e => e.Evaluate(values)).ToArray();
                if (p.Scope == ParamScope.Layer)
                {
                    for (int i = 0; i < variantSpec.Dims.Layers; i++) declared["encoder.layer." + i + "." + p.Key] = shape;
                }
                else
                {
                    declared[p.Key] = shape;
                }
            }
            var model = family.CreatePreTrainingModel(variant.Config);
            using var module = model.Module;
            var backbone = (TorchSharp.torch.nn.Module)model.Backbone;
            // The pre-training model has a pooler exactly when the checkpoints hold one.
            Assert.Equal(spec.Pooler.InCheckpoint, (bool)backbone.GetType().GetProperty("HasPooler")!.GetValue(backbone)!);
            if (!spec.Pooler.InCheckpoint)
            {
                declared.Remove("pooler.dense.weight");
                declared.Remove("pooler.dense.bias");
            }
            var actual = backbone.state_dict();
            Assert.Equal(declared.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var (key, shape) in declared) Assert.True(shape.SequenceEqual(actual[key].shape), $"{variantSpec.Name} {key}: [{string.Join(", ", actual[key].shape)}], declared [{string.Join(", ", shape)}]");
            Assert.Equal(variant.Parameters, variant.Config.CountBackboneParameters());
        }
    }
}

/// <summary>Small tensor assertions for tests that compare two computations of the same values.</summary>
internal static class TensorAssertions
{
    public static void Close(Tensor expected, Tensor actual, double atol)
    {
        Assert.Equal(expected.shape, actual.shape);
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= atol, $"max |difference| {difference} > {atol}");
    }
}
