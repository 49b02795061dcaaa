using System;
using System.Linq;
using RnaLm.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>Token dropout, RMSNorm and the pair-prior activation against hand computation (families-esm.md §0, families-bert2.md §1.3).</summary>
public sealed class EmbeddingBlockTests
{
    private const long Mask = 4;

    private static void AssertClose(double expected, float actual, double tolerance = 1e-6) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    [Fact]
    public void TokenDropoutWithoutMasksScalesEveryRowBy088()
    {
        using var x = tensor(new float[] { 1, -2, 0.5f, 3, -4, 10 }, new long[] { 1, 3, 2 });
        using var ids = tensor(new long[] { 1, 6, 2 }, new long[] { 1, 3 });
        using var mask = ones(1, 3, ScalarType.Int64);
        using var y = TokenDropout.Apply(x, ids, mask, Mask);
        Assert.Equal(new long[] { 1, 3, 2 }, y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        var values = y.data<float>().ToArray();
        var input = new[] { 1, -2, 0.5, 3, -4, 10 };
        for (int i = 0; i < input.Length; i++) AssertClose(input[i] * 0.88, values[i]);
        // Not the identity: the training ratio applies even when nothing is masked.
        Assert.NotEqual(1f, values[0]);
    }

    [Fact]
    public void TokenDropoutZeroesMaskRowsAndRescalesByTheObservedRatioPerSequence()
    {
        // Sequence 0: 5 real tokens, 2 masks: factor 0.88 / (1 - 2/5) = 1.4666….
        // Sequence 1: 4 real tokens (one pad), 1 mask: factor 0.88 / (1 - 1/4) = 1.1733…; the pad row is rescaled too
        // (the embedding stage zeroes it afterwards with the attention mask).
        var values = Enumerable.Range(1, 20).Select(v => (float)v).ToArray();
        using var x = tensor(values, new long[] { 2, 5, 2 });
        using var ids = tensor(new long[] { 1, 4, 6, 4, 2, 1, 6, 4, 2, 0 }, new long[] { 2, 5 });
        using var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, new long[] { 2, 5 });
        using var y = TokenDropout.Apply(x, ids, mask, Mask);
        var result = y.data<float>().ToArray();
        double[] factor = { 0.88 / (1 - 2.0 / 5), 0.88 / (1 - 1.0 / 4) };
        long[] idArray = ids.data<long>().ToArray();
        for (int b = 0; b < 2; b++)
        {
            for (int t = 0; t < 5; t++)
            {
                for (int h = 0; h < 2; h++)
                {
                    int i = (b * 5 + t) * 2 + h;
                    double expected = idArray[b * 5 + t] == Mask ? 0 : values[i] * factor[b];
                    AssertClose(expected, result[i]);
                }
            }
        }
        // The pad row of sequence 1 (input 19, 20) carries that sequence's factor.
        AssertClose(19 * factor[1], result[18]);
        Assert.Equal(0f, result[2]);
        Assert.Equal(0f, result[6]);
    }

    [Fact]
    public void TokenDropoutUsesTheReferenceFloat32OperationOrder()
    {
        // (x · 0.88) / (1 − 1/3), each step rounded to float32, as the reference computes it.
        const float value = 0.1234567f;
        using var x = full(1, 3, 1, value);
        using var ids = tensor(new long[] { 1, 4, 2 }, new long[] { 1, 3 });
        using var mask = ones(1, 3, ScalarType.Int64);
        using var y = TokenDropout.Apply(x, ids, mask, Mask);
        float ratio = 1f / 3f;
        float expected = value * 0.88f / (1f - ratio);
        Assert.Equal(expected, y[0, 0, 0].item<float>());
        Assert.Equal(0f, y[0, 1, 0].item<float>());
    }

    [Fact]
    public void RmsNormMatchesTheFormulaWithItsWeight()
    {
        using var norm = new RmsNorm(4, 1e-6);
        Assert.Equal(new[] { "weight" }, norm.state_dict().Keys.ToArray());
        Assert.Equal(new float[] { 1, 1, 1, 1 }, norm.state_dict()["weight"].data<float>().ToArray());
        using (no_grad()) norm.state_dict()["weight"].copy_(tensor(new float[] { 1, 0.5f, 2, -1 }));

        using var x = tensor(new float[] { 1, 2, 3, 4, 0, 0, 0, 0 }, new long[] { 2, 4 });
        using var y = norm.call(x);
        double inverse = 1 / Math.Sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6); // 0.36514…
        double[] expected = { 1 * inverse * 1, 2 * inverse * 0.5, 3 * inverse * 2, 4 * inverse * -1, 0, 0, 0, 0 };
        var result = y.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) AssertClose(expected[i], result[i]);
        Assert.DoesNotContain(result, float.IsNaN); // eps keeps an all-zero row finite
    }

    [Fact]
    public void RmsNormNormalisesOnlyTheLastDimensionAndHonoursEps()
    {
        using var norm = new RmsNorm(2, 1.0);
        using var x = tensor(new float[] { 3, 4, 6, 8 }, new long[] { 2, 1, 2 });
        using var y = norm.call(x);
        Assert.Equal(new long[] { 2, 1, 2 }, y.shape);
        var result = y.data<float>().ToArray();
        double first = 1 / Math.Sqrt(12.5 + 1), second = 1 / Math.Sqrt(50 + 1);
        AssertClose(3 * first, result[0]);
        AssertClose(4 * first, result[1]);
        AssertClose(6 * second, result[2]);
        AssertClose(8 * second, result[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsNorm(0, 1e-6));
    }

    [Fact]
    public void PairPriorActivationComesFromTheArgument()
    {
        // ids A C G U = 6 7 8 9; pairs A–U 2, C–G 3, G–U alpha 0.8, else 0. dense1: v ↦ v − 2.5; dense2: a ↦ (a, 2a).
        using var gelu = new PairPrior(heads: 2, vocabSize: 10, a: 6, c: 7, g: 8, u: 9, alpha: 0.8);
        using var relu = new PairPrior(heads: 2, vocabSize: 10, a: 6, c: 7, g: 8, u: 9, alpha: 0.8, activation: "relu");
        foreach (var prior in new[] { gelu, relu })
        {
            Assert.Equal(new[] { "dense1.bias", "dense1.weight", "dense2.bias", "dense2.weight" },
                prior.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
            var state = prior.state_dict();
            using var noGrad = no_grad();
            state["dense1.weight"].fill_(1);
            state["dense1.bias"].fill_(-2.5);
            state["dense2.weight"].copy_(tensor(new float[] { 1, 2 }, new long[] { 2, 1 }));
            state["dense2.bias"].zero_();
        }
        using var ids = tensor(new long[] { 6, 9, 7, 8 }, new long[] { 1, 4 }); // A U C G
        using var fromGelu = gelu.call(ids);                                    // [1, 2, 4, 4]
        using var fromRelu = relu.call(ids);

        // Hand values: gelu(−2.5), gelu(−0.5), gelu(0.5), gelu(−1.7) with the exact erf GELU.
        double Gelu(double pair) => pair switch
        {
            0 => -0.015524163314440398,
            2 => -0.15426876936299344,
            3 => 0.34573123063700656,
            _ => -0.0757612866895232,
        };
        double[,] map = { { 0, 2, 0, 0 }, { 2, 0, 0, 0.8 }, { 0, 0, 0, 3 }, { 0, 0.8, 3, 0 } };
        for (int head = 0; head < 2; head++)
        {
            for (int i = 0; i < 4; i++)
            {
                for (int j = 0; j < 4; j++)
                {
                    double scale = head + 1;
                    AssertClose(scale * Gelu(map[i, j]), fromGelu[0, head, i, j].item<float>());
                    AssertClose(scale * Math.Max(0, map[i, j] - 2.5), fromRelu[0, head, i, j].item<float>());
                }
            }
        }
        var error = Assert.Throws<ArgumentException>(() => new PairPrior(2, 10, 6, 7, 8, 9, 0.8, activation: "swish"));
        Assert.Contains("swish", error.Message);
    }
}
