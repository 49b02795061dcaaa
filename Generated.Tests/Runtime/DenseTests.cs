using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// The generated encoders' linear layer (<see cref="Dense"/>): nn.Linear's parameters and initialisation; RnaLm's
/// AVX-512 kernel where it applies, with the same values as libtorch's <c>linear</c> to float32 rounding on every edge of
/// its tiling and the same bits for a record alone or in a batch and for any thread count; libtorch's <c>linear</c>
/// (with its gradients) when training; forward hooks run as on any module.
/// </summary>
public sealed class DenseTests
{
    /// <summary>A layer with weights and bias drawn from U(-1, 1).</summary>
    private static Dense Layer(long inFeatures, long outFeatures, bool bias, int seed)
    {
        var layer = new Dense(inFeatures, outFeatures, bias);
        using var generator = new torch.Generator((ulong)seed);
        using (no_grad())
        {
            layer.Weight.uniform_(-1, 1, generator);
            layer.Bias?.uniform_(-1, 1, generator);
        }
        return layer;
    }

    /// <summary>The float64 product, the reference both engines are held to.</summary>
    private static Tensor Reference(Dense layer, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var reference = nn.functional.linear(input.to(float64), layer.Weight.to(float64), layer.Bias?.to(float64));
        return reference.MoveToOuterDisposeScope();
    }

    [Fact]
    public void ItsParametersAreNnLinearsAndSoIsItsInitialisation()
    {
        using var withBias = new Dense(300, 7);
        using var withoutBias = new Dense(300, 7, hasBias: false);
        Assert.Equal(new[] { "bias", "weight" }, withBias.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(new[] { "weight" }, withoutBias.state_dict().Keys);
        Assert.Equal(new long[] { 7, 300 }, withBias.Weight.shape);
        Assert.Equal(new long[] { 7 }, withBias.Bias!.shape);
        Assert.True(withBias.Weight.requires_grad);
        // U(−1/√in, 1/√in): every value inside the bound, and the spread of a uniform on it (2100 draws).
        double bound = 1 / Math.Sqrt(300);
        Assert.True(withBias.Weight.abs().max().item<float>() <= bound);
        double std = withBias.Weight.std().item<float>();
        Assert.InRange(std, 0.9 * bound / Math.Sqrt(3), 1.1 * bound / Math.Sqrt(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(0, 4));
    }

    [Fact]
    public void ForwardHooksSeeEveryCall()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var layer = Layer(32, 16, bias: true, seed: 29);
        var seen = new List<long[]>();
        var hook = layer.register_forward_hook((_, input, output) =>
        {
            seen.Add(output.shape);
            return output * 2;
        });
        var x = ones(3, 32);
        var doubled = layer.call(x);
        hook.remove();
        Assert.Equal(new[] { new long[] { 3, 16 } }, seen);
        Assert.True(doubled.allclose(2 * layer.call(x)));
    }

    public static IEnumerable<object[]> EdgeShapes()
    {
        // Rows around the 12-row micro-tile and the 96-row block, columns around the 32-column panel, reductions around
        // the 16-wide transposes and the 384-step block; with and without bias.
        int[] rows = { 1, 11, 12, 13, 97, 200 };
        int[] columns = { 1, 31, 32, 33, 100 };
        int[] reductions = { 1, 15, 16, 17, 383, 384, 385, 800 };
        int seed = 0;
        foreach (int m in rows)
        {
            foreach (int n in columns)
            {
                yield return new object[] { m, n, reductions[seed % reductions.Length], seed % 2 == 0 };
                seed++;
            }
        }
        foreach (int k in reductions)
        {
            yield return new object[] { 29, 70, k, true };
        }
        yield return new object[] { 130, 3000, 64, true };  // split by columns over threads
        yield return new object[] { 3000, 130, 64, false }; // split by rows
    }

    [Theory]
    [MemberData(nameof(EdgeShapes))]
    public void EveryEdgeOfTheTilingMatchesTheFloat64Product(int m, int n, int k, bool bias)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var layer = Layer(k, n, bias, seed: m * 7919 + n * 31 + k);
        using var generator = new torch.Generator((ulong)(m + n + k));
        var input = rand(new long[] { m, k }, generator: generator) * 2 - 1;

        var output = layer.call(input);
        var reference = Reference(layer, input);

        Assert.Equal(new long[] { m, n }, output.shape);
        Assert.Equal(ScalarType.Float32, output.dtype);
        Assert.Equal(Dense.KernelEnabled, Dense.UsesKernel(input, layer.Weight, layer.Bias));
        // float32 sums of k products of magnitude ≤ 1: a few ulps of the partial sums, which grow like √k.
        double tolerance = 1e-5 * Math.Max(1, Math.Sqrt(k));
        double error = (output.to(float64) - reference).abs().max().item<double>();
        Assert.True(error <= tolerance, $"[{m}, {k}]·[{n}, {k}]ᵀ: max |error| {error:E2} > {tolerance:E2}");
    }

    [Fact]
    public void LeadingDimensionsAndNonContiguousInputsAreProjectedLikeLibtorch()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var layer = Layer(48, 40, bias: true, seed: 3);
        using var generator = new torch.Generator(5);
        // [B, L, H] as the encoders pass it, and a transposed view that is not contiguous.
        var batched = rand(new long[] { 3, 17, 48 }, generator: generator);
        var transposed = rand(new long[] { 48, 17 }, generator: generator).t();
        Assert.False(transposed.is_contiguous());

        foreach (var input in new[] { batched, transposed })
        {
            var output = layer.call(input);
            var expected = nn.functional.linear(input, layer.Weight, layer.Bias);
            Assert.Equal(expected.shape, output.shape);
            Assert.True(output.allclose(expected, rtol: 1e-5, atol: 1e-5));
        }
    }

    [Fact]
    public void ARecordsProjectionIsTheSameBitsAloneInABatchAndOnAnyThreadCount()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        // Full-size widths, where libtorch's own products may change their blocking with the batch.
        using var layer = Layer(768, 3072, bias: true, seed: 11);
        using var generator = new torch.Generator(13);
        var batch = rand(new long[] { 6, 100, 768 }, generator: generator) - 0.5;
        int threads = get_num_threads();
        try
        {
            set_num_threads(2);
            var together = layer.call(batch);
            var alone = layer.call(batch[4..5]);
            set_num_threads(1);
            var oneThread = layer.call(batch);
            Assert.True(together[4..5].eq(alone).all().item<bool>(), "record 4 alone differs from record 4 in the batch");
            Assert.True(together.eq(oneThread).all().item<bool>(), "two threads differ from one");
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void ProductsFromSeveralThreadsAtOnceAreEachRight()
    {
        // Callers on different threads share the kernel's packing buffers and its pool: each must get its own result.
        // 90 × 300 × 512 per call: 28 MFLOP, so each call is split between threads too.
        using var layer = Layer(512, 300, bias: true, seed: 31);
        using var generator = new torch.Generator(37);
        using var input = rand(new long[] { 4, 90, 512 }, generator: generator);
        Tensor expected;
        using (var inference = inference_mode()) expected = layer.call(input);
        using var expectedScope = expected;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new System.Threading.Thread(() =>
        {
            for (int r = 0; r < 25; r++)
            {
                using var scope = NewDisposeScope();
                using var inference = inference_mode();
                using var slice = input[t..(t + 1)];
                if (!layer.call(slice).eq(expected[t..(t + 1)]).all().item<bool>()) failures.Add($"thread {t}, round {r}");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(2)), "a thread did not finish"));
        Assert.Empty(failures);
    }

    [Fact]
    public void TrainingRunsOnLibtorchAndItsGradientsReachTheWeights()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(20, 9, bias: true, seed: 17);
        using var generator = new torch.Generator(19);
        var input = rand(new long[] { 4, 20 }, generator: generator);

        Assert.True(is_grad_enabled());
        Assert.False(Dense.UsesKernel(input, layer.Weight, layer.Bias)); // the weights require gradients
        var loss = layer.call(input).square().sum();
        loss.backward();
        var expected = 2 * layer.call(input).detach().t().matmul(input); // d/dW Σ (xWᵀ + b)² = 2 yᵀ x
        Assert.True(layer.Weight.grad!.allclose(expected, rtol: 1e-5, atol: 1e-5));

        using (var inference = inference_mode())
        {
            Assert.Equal(Dense.KernelEnabled, Dense.UsesKernel(input, layer.Weight, layer.Bias));
        }
        using (var noGrad = no_grad())
        {
            Assert.Equal(Dense.KernelEnabled, Dense.UsesKernel(input, layer.Weight, layer.Bias));
        }
    }

    [Fact]
    public void OtherDtypesAndEmptyInputsGoToLibtorch()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var layer = Layer(8, 4, bias: true, seed: 23);
        using var doubleLayer = Layer(8, 4, bias: true, seed: 23);
        doubleLayer.to(float64);
        var empty = zeros(0, 8);
        var doubles = ones(2, 8, dtype: float64);

        Assert.False(Dense.UsesKernel(empty, layer.Weight, layer.Bias));
        Assert.Equal(new long[] { 0, 4 }, layer.call(empty).shape);
        Assert.False(Dense.UsesKernel(doubles, doubleLayer.Weight, doubleLayer.Bias));
        Assert.Equal(ScalarType.Float64, doubleLayer.call(doubles).dtype);
    }
}
