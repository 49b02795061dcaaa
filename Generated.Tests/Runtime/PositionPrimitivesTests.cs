using System;
using System.Linq;
using RnaLm.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>The position and pair-prior building blocks against direct per-element formulas (models.md §2.2, §2.3, §5.3).</summary>
public sealed class PositionPrimitivesTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RotaryRotatesTheDeclaredPairsAndLeavesTheRest(bool interleaved)
    {
        manual_seed(3);
        using var rotary = new RotaryEmbedding(rotaryDim: 4, theta: 10000, interleaved: interleaved);
        var x = randn(1, 1, 5, 6); // [B, h, L, d]: 4 of 6 features rotate
        var y = rotary.call(x);
        var freqs = new[] { 1.0, Math.Pow(10000, -2.0 / 4) };
        for (int p = 0; p < 5; p++)
        {
            for (int k = 0; k < 2; k++)
            {
                int a = interleaved ? 2 * k : k, b = interleaved ? 2 * k + 1 : k + 2;
                double angle = p * freqs[k];
                double xa = x[0, 0, p, a].item<float>(), xb = x[0, 0, p, b].item<float>();
                Assert.Equal(xa * Math.Cos(angle) - xb * Math.Sin(angle), y[0, 0, p, a].item<float>(), 4);
                Assert.Equal(xb * Math.Cos(angle) + xa * Math.Sin(angle), y[0, 0, p, b].item<float>(), 4);
            }
            Assert.Equal(x[0, 0, p, 4].item<float>(), y[0, 0, p, 4].item<float>());
            Assert.Equal(x[0, 0, p, 5].item<float>(), y[0, 0, p, 5].item<float>());
        }
    }

    [Fact]
    public void StoredRotaryFrequenciesAreAParameterComputedOnesAreNotInTheStateDict()
    {
        using var stored = new RotaryEmbedding(8, 10000);
        using var computed = new RotaryEmbedding(8, 10000, storedFrequencies: false);
        Assert.Equal(new[] { "freqs" }, stored.state_dict().Keys.ToArray());
        Assert.False(stored.parameters().Single().requires_grad);
        Assert.Empty(computed.state_dict());
    }

    [Fact]
    public void SinusoidTableMatchesTheFormulaAndPaddingRowIsZero()
    {
        using var table = SinusoidalPositions.Table(rows: 6, dim: 8, paddingIndex: 0);
        double step = Math.Log(10000) / (4 - 1);
        for (int p = 1; p < 6; p++)
        {
            for (int k = 0; k < 4; k++)
            {
                double angle = p * Math.Exp(-k * step);
                Assert.Equal(Math.Sin(angle), table[p, k].item<float>(), 5);
                Assert.Equal(Math.Cos(angle), table[p, k + 4].item<float>(), 5);
            }
        }
        Assert.True(table[0].eq(0).all().item<bool>());
    }

    [Fact]
    public void SinusoidPositionsArePaddingAwareAndOffset()
    {
        var ids = tensor(new long[] { 1, 6, 7, 2, 1, 8, 2, 0 }, new long[] { 2, 4 });
        using var positions = SinusoidalPositions.PositionIds(ids, paddingIndex: 0, offset: 1);
        Assert.Equal(new long[] { 2, 3, 4, 5, 2, 3, 4, 1 }, positions.data<long>().ToArray());
    }

    [Fact]
    public void PairMapHasWatsonCrickAndWobbleValuesOnly()
    {
        using var prior = new PairPrior(heads: 4, vocabSize: 10, a: 6, c: 7, g: 8, u: 9, alpha: 0.8);
        var ids = tensor(new long[] { 6, 7, 8, 9, 1 }).unsqueeze(0);
        using var map = prior.PairMap(ids);
        float[,] expected =
        {
            { 0, 0, 0, 2, 0 },
            { 0, 0, 3, 0, 0 },
            { 0, 3, 0, 0.8f, 0 },
            { 2, 0, 0.8f, 0, 0 },
            { 0, 0, 0, 0, 0 },
        };
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                Assert.Equal(expected[i, j], map[0, i, j].item<float>(), 6);
        using var bias = prior.call(ids);
        Assert.Equal(new long[] { 1, 4, 5, 5 }, bias.shape);
    }
}

/// <summary>Generated models start from BERT's initialisation, not TorchSharp's defaults.</summary>
public sealed class WeightInitTests
{
    [Fact]
    public void FreshModelsUseInitializerRangeAndAZeroPadRow()
    {
        manual_seed(7);
        var variant = RnaLm.Models.ModelCatalog.Registry.GetVariant("splicebert");
        using var module = variant.Family.CreatePreTrainingModel(variant.Config).Module;
        var sd = module.state_dict();
        double std = sd["model.encoder.layer.0.attention.self.query.weight"].std().item<float>();
        Assert.InRange(std, 0.018, 0.022); // initializer_range 0.02
        Assert.True(sd["model.encoder.layer.0.attention.self.query.bias"].eq(0).all().item<bool>());
        Assert.True(sd["model.embeddings.layer_norm.weight"].eq(1).all().item<bool>());
        Assert.True(sd["model.embeddings.word_embeddings.weight"][0].eq(0).all().item<bool>()); // <pad> row, also the tied decoder row
        Assert.True(sd["lm_head.bias"].eq(0).all().item<bool>());
        double embeddingStd = sd["model.embeddings.word_embeddings.weight"][TensorIndex.Slice(1)].std().item<float>();
        Assert.InRange(embeddingStd, 0.015, 0.025);
    }
}
