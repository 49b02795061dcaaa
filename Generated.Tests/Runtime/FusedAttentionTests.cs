using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json.Nodes;
using RnaLm.Models;
using RnaLm.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// The generated attention's fused path (<see cref="FusedAttention"/>): RnaLm's kernel agrees with the explicit float64
/// attention on every edge of its blocking (lengths around the 16-wide vectors and 48-query blocks, head sizes around
/// the 32-column panels), with and without a key-padding mask, and libtorch runs it where the kernel does not apply
/// (heads under 32 features among them, checked against the same reference).
/// </summary>
public sealed class FusedAttentionTests
{
    public static IEnumerable<object[]> Shapes()
    {
        // batch, heads, length, head size, masked
        yield return new object[] { 1, 1, 1, 8, false };   // heads under 32 features: libtorch
        yield return new object[] { 1, 1, 1, 32, false };
        yield return new object[] { 2, 3, 17, 20, true };
        yield return new object[] { 1, 2, 48, 32, true };
        yield return new object[] { 2, 2, 49, 64, true };
        yield return new object[] { 3, 4, 100, 40, true };
        yield return new object[] { 1, 12, 130, 64, false };
        yield return new object[] { 2, 2, 400, 33, true }; // a reduction over 400 keys: two blocks of 384
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesTheExplicitFloat64Attention(int batch, int heads, int length, int headSize, bool masked)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var generator = new torch.Generator((ulong)(batch * 1000 + length * 10 + headSize));
        // [B, h, L, d] views of [B, L, h·d], as the generated attention passes them.
        Tensor Heads() => randn(new long[] { batch, length, heads, headSize }, generator: generator).transpose(1, 2);
        var q = Heads();
        var k = Heads();
        var v = Heads();
        Tensor? mask = null;
        if (masked)
        {
            // The last keys of every record but the first are padding, as AttentionMasks.KeyPadding builds them.
            var padding = zeros(batch, 1, 1, length);
            for (int b = 1; b < batch; b++) padding[b, 0, 0, (length - Math.Min(length - 1, 3 * b))..].fill_(float.MinValue);
            mask = padding;
        }

        Assert.Equal(Dense.KernelEnabled && headSize >= FusedAttention.MinimumHeadSize, FusedAttention.UsesKernel(q, k, v, mask, 0.0));
        var actual = FusedAttention.Apply(q, k, v, mask, 0.0);

        var scores = q.to(float64).matmul(k.to(float64).transpose(2, 3)) / Math.Sqrt(headSize);
        if (mask is not null) scores = scores + mask.to(float64);
        var expected = scores.softmax(-1).matmul(v.to(float64));
        Assert.Equal(expected.shape, actual.shape);
        double error = (actual.to(float64) - expected).abs().max().item<double>();
        Assert.True(error <= 2e-5, $"[{batch}, {heads}, {length}, {headSize}]: max |error| {error:E2}");
    }

    /// <summary>
    /// End to end through generated code: a SpliceBERT-shaped model with heads of 32 features (the fixtures' heads
    /// are smaller, so they take libtorch's kernel) gives the same hidden states on the fused path as on the explicit
    /// product the fixture parity tests check, for a padded batch.
    /// </summary>
    [Fact]
    public void AGeneratedEncoderGivesTheSameHiddenStatesOnBothPaths()
    {
        var family = ModelCatalog.Registry.GetVariant("splicebert").Family;
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Models("splicebert"), "config.json")))!.AsObject();
        json["hidden_size"] = 64;
        json["num_attention_heads"] = 2;
        json["intermediate_size"] = 128;
        json["max_position_embeddings"] = 128;
        var config = family.ReadConfig(json.ToJsonString(), "splicebert");
        torch.manual_seed(41);
        var model = family.CreatePreTrainingModel(config);
        using var module = model.Module;
        module.eval();
        // Weights far larger than the initialisation's, so the attention is peaked and a wrong weight shows.
        using (var noGrad = no_grad())
        {
            foreach (var parameter in module.parameters()) parameter.uniform_(-0.5, 0.5);
        }
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var ids = randint(6, 10, new long[] { 3, 70 }, dtype: ScalarType.Int64);
        var mask = ones_like(ids);
        mask[1, 50..] = 0;
        mask[2, 20..] = 0;
        Tensor Hidden(bool fused)
        {
            using var path = AttentionPaths.Force(fused);
            return model.Forward(ids, mask, OutputRequest.None).Backbone.LastHiddenState;
        }
        var fusedHidden = Hidden(true);
        var explicitHidden = Hidden(false);
        Assert.True(Dense.KernelEnabled == FusedAttention.UsesKernel(randn(3, 2, 70, 32), randn(3, 2, 70, 32), randn(3, 2, 70, 32), null, 0.0));
        double error = (fusedHidden - explicitHidden).abs().max().item<float>();
        Assert.True(error <= 1e-4, $"max |error| {error:E2} (hidden states of magnitude {explicitHidden.abs().max().item<float>():F2})");
    }

    [Fact]
    public void TrainingDropoutAndOtherMasksGoToLibtorch()
    {
        using var scope = NewDisposeScope();
        var q = randn(1, 2, 8, 16);
        var pairMask = zeros(1, 1, 8, 8); // a mask over pairs, not keys
        using (var inference = inference_mode())
        {
            Assert.False(FusedAttention.UsesKernel(q, q, q, null, 0.1));
            Assert.False(FusedAttention.UsesKernel(q, q, q, pairMask, 0.0));
            Assert.False(FusedAttention.UsesKernel(q.to(float64), q.to(float64), q.to(float64), null, 0.0));
            var viaLibtorch = FusedAttention.Apply(q, q, q, pairMask, 0.0);
            Assert.True(viaLibtorch.allclose(nn.functional.scaled_dot_product_attention(q, q, q, pairMask, 0.0)));
        }
        var trained = randn(1, 2, 8, 16).requires_grad_();
        Assert.False(FusedAttention.UsesKernel(trained, trained, trained, null, 0.0));
        FusedAttention.Apply(trained, trained, trained, null, 0.0).sum().backward();
        Assert.NotNull(trained.grad);
    }
}
