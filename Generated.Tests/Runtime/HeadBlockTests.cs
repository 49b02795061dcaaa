using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Heads;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// The heads the ESM and BERT-2 families add or reuse under other names: pooler activation, MLM head without bias or
/// under another name, named sequence/token heads, the k-mer unfolding token head (families-bert2.md §2.4) and the
/// contact attention head (families-esm.md §0), against hand-made inputs and hand-computed values.
/// </summary>
public sealed class HeadBlockTests
{
    private const long Cls = 1, Eos = 2, Pad = 0, A = 6;

    /// <summary>Registers a head under its own name, as a generated model's field of that name does.</summary>
    private sealed class Holder : nn.Module
    {
        public Holder(nn.Module head) : base("holder") => register_module(head.GetName(), head);
    }

    private static string[] Keys(nn.Module module) => module.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();

    private static void Set(nn.Module module, string key, float[] values)
    {
        var target = module.state_dict()[key];
        using var noGrad = no_grad();
        target.copy_(tensor(values).view(target.shape));
    }

    private static void AssertClose(double expected, float actual, double tolerance = 1e-5) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    private static void AssertRows(double[][] expected, Tensor actual)
    {
        Assert.Equal(expected.Length, actual.shape[0]);
        for (int r = 0; r < expected.Length; r++)
        {
            for (int c = 0; c < expected[r].Length; c++) AssertClose(expected[r][c], actual[r, c].item<float>());
        }
    }

    // ---- pooler --------------------------------------------------------------------------------------------------

    [Fact]
    public void PoolerAppliesTheNamedActivationToTheFirstToken()
    {
        using var tanhPooler = new Pooler(2);
        using var reluPooler = new Pooler(2, "relu");
        foreach (var pooler in new[] { tanhPooler, reluPooler })
        {
            Assert.Equal(new[] { "dense.bias", "dense.weight" }, Keys(pooler));
            Set(pooler, "dense.weight", new float[] { 1, 0, 0, 1 });
            Set(pooler, "dense.bias", new float[] { 0, 0.5f });
        }
        using var hidden = tensor(new float[] { -1, 2, 9, 9 }, new long[] { 1, 2, 2 }); // token 0 = (−1, 2)
        using var fromTanh = tanhPooler.call(hidden);
        using var fromRelu = reluPooler.call(hidden);
        AssertClose(Math.Tanh(-1), fromTanh[0, 0].item<float>());
        AssertClose(Math.Tanh(2.5), fromTanh[0, 1].item<float>());
        Assert.Equal(0f, fromRelu[0, 0].item<float>());
        AssertClose(2.5, fromRelu[0, 1].item<float>());
        Assert.Contains("pooler activation", Assert.Throws<ArgumentException>(() => new Pooler(2, "softmax")).Message);
    }

    // ---- MLM head ------------------------------------------------------------------------------------------------

    private static readonly string[] TransformKeys =
    {
        "transform.dense.bias", "transform.dense.weight", "transform.layer_norm.bias", "transform.layer_norm.weight",
    };

    [Fact]
    public void MaskedLMHeadWithBiasHasTheBiasUnderBothNames()
    {
        using var head = new MaskedLMHead(4, 7, "gelu", 1e-12, tiedWeight: null);
        Assert.Equal("lm_head", head.GetName());
        Assert.True(head.HasBias);
        Assert.Equal(new[] { "bias", "decoder.bias", "decoder.weight" }.Concat(TransformKeys), Keys(head));
        var state = head.state_dict();
        using (no_grad()) state["bias"].fill_(0.75);
        Assert.Equal(Enumerable.Repeat(0.75f, 7), state["decoder.bias"].data<float>().ToArray()); // one parameter
    }

    [Fact]
    public void MaskedLMHeadWithoutBiasHasNoBiasAtAll()
    {
        using var head = new MaskedLMHead(4, 7, "gelu", 1e-12, tiedWeight: null, bias: false);
        Assert.False(head.HasBias);
        Assert.Equal(new[] { "decoder.weight" }.Concat(TransformKeys), Keys(head));
        head.InitializeWeights(0.02);

        // A constant input makes the LayerNorm output its bias (0), so logits without an output bias are exactly 0.
        using var hidden = ones(1, 3, 4);
        Set(head, "transform.dense.weight", new float[16]);
        using var logits = head.call(hidden);
        Assert.Equal(new long[] { 1, 3, 7 }, logits.shape);
        Assert.Equal(0f, logits.abs().max().item<float>());
    }

    [Fact]
    public void MaskedLMHeadTiedWithoutBiasSharesTheEmbeddingMatrix()
    {
        using var embedding = nn.Embedding(7, 4);
        using var head = new MaskedLMHead(4, 7, "gelu", 1e-12, embedding.weight, bias: false);
        Assert.Equal(new[] { "decoder.weight" }.Concat(TransformKeys), Keys(head));
        using (no_grad()) embedding.weight!.fill_(0.25);
        Assert.Equal(Enumerable.Repeat(0.25f, 28), head.state_dict()["decoder.weight"].data<float>().ToArray());
    }

    [Fact]
    public void MaskedLMHeadUnderAnotherNameGivesTheSsHeadKeys()
    {
        // RNABERT's ss_head: an MLM-style head with 8 outputs and its own decoder (families-bert2.md §3.5).
        using var head = new MaskedLMHead(6, 8, "gelu", 1e-12, tiedWeight: null, name: "ss_head");
        Assert.Equal("ss_head", head.GetName());
        using var holder = new Holder(head);
        Assert.Equal(new[]
        {
            "ss_head.bias", "ss_head.decoder.bias", "ss_head.decoder.weight", "ss_head.transform.dense.bias", "ss_head.transform.dense.weight",
            "ss_head.transform.layer_norm.bias", "ss_head.transform.layer_norm.weight",
        }, Keys(holder));
        Assert.Equal(new long[] { 8, 6 }, holder.state_dict()["ss_head.decoder.weight"].shape);
        Assert.Equal(new long[] { 8 }, holder.state_dict()["ss_head.bias"].shape);
    }

    // ---- named task heads ----------------------------------------------------------------------------------------

    [Fact]
    public void SequenceAndTokenHeadsTakeTheirKeyPrefixFromTheName()
    {
        using var sa = new SequencePredictionHead(5, 2, name: "sa_head");
        using var mfe = new SequencePredictionHead(5, 1, HeadTransform.Create("nonlinear", 5, "gelu", 1e-12), name: "mfe_head");
        using var structure = new TokenPredictionHead(5, 3, Cls, Eos, name: "structure_head");
        using var generic = new TokenPredictionHead(5, 3, Cls, Eos);
        Assert.Equal("token_head", generic.GetName());
        Assert.Equal("sequence_head", new SequencePredictionHead(5, 1).GetName());

        Assert.Equal(new[] { "sa_head.decoder.bias", "sa_head.decoder.weight" }, Keys(new Holder(sa)));
        Assert.Equal(new[]
        {
            "mfe_head.decoder.bias", "mfe_head.decoder.weight", "mfe_head.transform.dense.bias", "mfe_head.transform.dense.weight",
            "mfe_head.transform.layer_norm.bias", "mfe_head.transform.layer_norm.weight",
        }, Keys(new Holder(mfe)));
        using var holder = new Holder(structure);
        Assert.Equal(new[] { "structure_head.decoder.bias", "structure_head.decoder.weight" }, Keys(holder));
        Assert.Equal(new long[] { 3, 5 }, holder.state_dict()["structure_head.decoder.weight"].shape);

        using var hidden = randn(2, 6, 5);
        using var ids = tensor(new long[] { Cls, A, A, A, A, Eos, Cls, A, A, Eos, Pad, Pad }, new long[] { 2, 6 });
        using var mask = ids.ne(Pad).to_type(ScalarType.Int64);
        using var logits = structure.call(hidden, ids, mask);
        Assert.Equal(new long[] { 2, 4, 3 }, logits.shape);
        using var pooled = sa.call(hidden.select(1, 0));
        Assert.Equal(new long[] { 2, 2 }, pooled.shape);
    }

    // ---- k-mer unfolding -----------------------------------------------------------------------------------------

    private static Tensor Column(params float[] values) => tensor(values, new long[] { 1, values.Length, 1 });

    private static double[] Unfolded(float[] rows, long[] mask, int k)
    {
        using var x = Column(rows);
        using var m = tensor(mask, new long[] { 1, mask.Length });
        using var result = TokenKmerPredictionHead.Unfold(x, m, k);
        Assert.Equal(new long[] { 1, rows.Length + k - 1, 1 }, result.shape);
        return result.data<float>().ToArray().Select(v => (double)v).ToArray();
    }

    private static void AssertSequence(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) AssertClose(expected[i], (float)actual[i], 1e-6);
    }

    [Fact]
    public void UnfoldingMoreKmersThanKAveragesEveryCoveringKmer()
    {
        // n = 5, k = 3: prefixes, 3-wide windows, suffixes.
        AssertSequence(new[] { 1, 1.5, 7 / 3.0, 14 / 3.0, 28 / 3.0, 12, 16 }, Unfolded(new float[] { 1, 2, 4, 8, 16 }, new long[] { 1, 1, 1, 1, 1 }, 3));
    }

    [Fact]
    public void UnfoldingExactlyKKmers()
    {
        AssertSequence(new[] { 1, 1.5, 7 / 3.0, 3, 4 }, Unfolded(new float[] { 1, 2, 4 }, new long[] { 1, 1, 1 }, 3));
    }

    [Fact]
    public void UnfoldingFewerKmersThanK()
    {
        // n = 2, k = 3: nucleotides 1 and 2 are both covered by the two k-mers.
        AssertSequence(new[] { 1, 1.5, 1.5, 2 }, Unfolded(new float[] { 1, 2 }, new long[] { 1, 1 }, 3));
        // n = 2, k = 4.
        AssertSequence(new[] { 1, 1.5, 1.5, 1.5, 2 }, Unfolded(new float[] { 1, 2 }, new long[] { 1, 1 }, 4));
    }

    [Fact]
    public void UnfoldingASingleKmerRepeatsItKTimes()
    {
        AssertSequence(new double[] { 5, 5, 5 }, Unfolded(new float[] { 5 }, new long[] { 1 }, 3));
    }

    [Fact]
    public void UnfoldingIgnoresRowsPastTheMaskAndZeroesTheTail()
    {
        // Two real k-mers, then three padded rows holding garbage.
        AssertSequence(new[] { 1, 1.5, 1.5, 2, 0, 0, 0 }, Unfolded(new float[] { 1, 2, 100, 200, 300 }, new long[] { 1, 1, 0, 0, 0 }, 3));
        // k = 1 is the identity on real rows.
        AssertSequence(new double[] { 1, 2, 0 }, Unfolded(new float[] { 1, 2, 100 }, new long[] { 1, 1, 0 }, 1));
    }

    [Fact]
    public void KmerTokenHeadStripsSpecialsUnfoldsThenDecodesAPaddedBatch()
    {
        // H = 1. Sequence 0: <cls> 5 k-mers <eos>; sequence 1: <cls> 2 k-mers <eos> pad pad pad. The <eos> and pad
        // positions hold large values that must not leak into the means.
        using var head = new TokenKmerPredictionHead(1, 2, Cls, Eos, nmers: 3);
        Assert.Equal("token_head", head.GetName());
        Assert.Equal(new[] { "decoder.bias", "decoder.weight" }, Keys(head));
        Set(head, "decoder.weight", new float[] { 1, -1 });
        Set(head, "decoder.bias", new float[] { 0.5f, 0.25f });

        using var hidden = tensor(new float[] { 50, 1, 2, 4, 8, 16, 70, 60, 1, 2, 80, 90, 90, 90 }, new long[] { 2, 7, 1 });
        using var ids = tensor(new long[] { Cls, A, A, A, A, A, Eos, Cls, A, A, Eos, Pad, Pad, Pad }, new long[] { 2, 7 });
        using var mask = ids.ne(Pad).to_type(ScalarType.Int64);
        using var logits = head.call(hidden, ids, mask);
        Assert.Equal(new long[] { 2, 7 - 2 + 3 - 1, 2 }, logits.shape);

        double[][] expected =
        {
            new[] { 1, 1.5, 7 / 3.0, 14 / 3.0, 28 / 3.0, 12, 16 },
            new[] { 1, 1.5, 1.5, 2, 0, 0, 0 },
        };
        for (int b = 0; b < 2; b++)
        {
            AssertRows(expected[b].Select(v => new[] { v + 0.5, -v + 0.25 }).ToArray(), logits[b]);
        }
    }

    [Fact]
    public void KmerTokenHeadAppliesItsTransformAfterUnfolding()
    {
        manual_seed(11);
        var transform = HeadTransform.Create("nonlinear", 4, "gelu", 1e-12)!;
        using var head = new TokenKmerPredictionHead(4, 3, Cls, Eos, nmers: 2, transform, name: "kmer_head");
        Assert.Equal(new[]
        {
            "kmer_head.decoder.bias", "kmer_head.decoder.weight", "kmer_head.transform.dense.bias", "kmer_head.transform.dense.weight",
            "kmer_head.transform.layer_norm.bias", "kmer_head.transform.layer_norm.weight",
        }, Keys(new Holder(head)));
        using var hidden = randn(1, 5, 4);
        using var ids = tensor(new long[] { Cls, A, A, A, Eos }, new long[] { 1, 5 });
        using var mask = ones(1, 5, ScalarType.Int64);
        using var logits = head.call(hidden, ids, mask);

        var state = head.state_dict();
        using var kmers = hidden.narrow(1, 1, 3);                                          // [1, 3, 4]
        using var unfolded = stack(new[]
        {
            kmers[0, 0], (kmers[0, 0] + kmers[0, 1]) / 2, (kmers[0, 1] + kmers[0, 2]) / 2, kmers[0, 2],
        }).unsqueeze(0);                                                                   // [1, 4, 4]
        using var expected = nn.functional.linear(transform.call(unfolded), state["decoder.weight"], state["decoder.bias"]);
        Assert.Equal(expected.shape, logits.shape);
        Assert.True(expected.allclose(logits, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void KmerTokenHeadRejectsASequenceWithoutKmers()
    {
        using var head = new TokenKmerPredictionHead(1, 1, Cls, Eos, nmers: 3);
        using var hidden = ones(2, 4, 1);
        using var ids = tensor(new long[] { Cls, A, A, Eos, Cls, Eos, Pad, Pad }, new long[] { 2, 4 });
        using var mask = ids.ne(Pad).to_type(ScalarType.Int64);
        var error = Assert.Throws<ArgumentException>(() => head.call(hidden, ids, mask));
        Assert.Contains("Sequence 1", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenKmerPredictionHead(1, 1, Cls, Eos, nmers: 0));
    }

    // ---- contact attention head ----------------------------------------------------------------------------------

    [Fact]
    public void ContactAttentionHeadTinyCaseByHand()
    {
        // N = 2 layers, h = 1 head, L = 4 (<cls> x y <eos>): the inner 2×2 blocks are used, symmetrised, and mixed by
        // the decoder weights (w0, w1) plus bias c.
        using var head = new ContactAttentionHead(channels: 2, numLabels: 1, Cls, Eos);
        Assert.Equal("ss_head", head.GetName());
        using var holder = new Holder(head);
        Assert.Equal(new[] { "ss_head.decoder.bias", "ss_head.decoder.weight" }, Keys(holder));
        Assert.Equal(new long[] { 1, 2 }, holder.state_dict()["ss_head.decoder.weight"].shape);
        Set(head, "decoder.weight", new float[] { 2, -1 });
        Set(head, "decoder.bias", new float[] { 0.5f });

        float[] layer0 =
        {
            9, 9, 9, 9,
            9, 0.1f, 0.2f, 9,
            9, 0.4f, 0.3f, 9,
            9, 9, 9, 9,
        };
        float[] layer1 =
        {
            7, 7, 7, 7,
            7, 0.5f, 0.0f, 7,
            7, 0.6f, 0.9f, 7,
            7, 7, 7, 7,
        };
        using var a0 = tensor(layer0, new long[] { 1, 1, 4, 4 });
        using var a1 = tensor(layer1, new long[] { 1, 1, 4, 4 });
        using var ids = tensor(new long[] { Cls, A, A, Eos }, new long[] { 1, 4 });
        using var mask = ones(1, 4, ScalarType.Int64);
        using var logits = head.Forward(new[] { a0, a1 }, ids, mask);
        Assert.Equal(new long[] { 1, 2, 2, 1 }, logits.shape);

        // (i, j) = (0, 0): 2·0.1 − 0.5 + 0.5; (0, 1) = (1, 0): 2·(0.2 + 0.4)/2 − (0.0 + 0.6)/2 + 0.5; (1, 1): 2·0.3 − 0.9 + 0.5.
        AssertClose(2 * 0.1 - 0.5 + 0.5, logits[0, 0, 0, 0].item<float>());
        AssertClose(0.6 - 0.3 + 0.5, logits[0, 0, 1, 0].item<float>());
        AssertClose(0.6 - 0.3 + 0.5, logits[0, 1, 0, 0].item<float>());
        AssertClose(2 * 0.3 - 0.9 + 0.5, logits[0, 1, 1, 0].item<float>());
    }

    [Fact]
    public void ContactAttentionHeadStacksLayerMajor()
    {
        // N = 2, h = 2; the decoder picks channel 2 = layer 1, head 0.
        using var head = new ContactAttentionHead(4, 1, Cls, Eos);
        Set(head, "decoder.weight", new float[] { 0, 0, 1, 0 });
        Set(head, "decoder.bias", new float[] { 0 });
        using var layer0 = stack(new[] { full(3, 3, 10f), full(3, 3, 11f) }).unsqueeze(0); // [1, 2, 3, 3]
        using var layer1 = stack(new[] { full(3, 3, 20f), full(3, 3, 21f) }).unsqueeze(0);
        using var ids = tensor(new long[] { Cls, A, Eos }, new long[] { 1, 3 });
        using var mask = ones(1, 3, ScalarType.Int64);
        using var logits = head.Forward(new[] { layer0, layer1 }, ids, mask);
        Assert.Equal(new long[] { 1, 1, 1, 1 }, logits.shape);
        Assert.Equal(20f, logits.item<float>());
    }

    [Fact]
    public void ContactAttentionHeadIsSymmetricAndMasksPaddingAndEos()
    {
        manual_seed(5);
        using var head = new ContactAttentionHead(6, 2, Cls, Eos);
        var bias = head.state_dict()["decoder.bias"];
        // Sequence 0: <cls> 4 tokens <eos>; sequence 1: <cls> 2 tokens <eos> pad pad.
        using var ids = tensor(new long[] { Cls, A, A, A, A, Eos, Cls, A, A, Eos, Pad, Pad }, new long[] { 2, 6 });
        using var mask = ids.ne(Pad).to_type(ScalarType.Int64);
        var attentions = new[] { rand(2, 3, 6, 6).softmax(-1), rand(2, 3, 6, 6).softmax(-1) };
        using var logits = head.Forward(attentions, ids, mask);
        Assert.Equal(new long[] { 2, 4, 4, 2 }, logits.shape);
        Assert.True(logits.allclose(logits.transpose(1, 2), rtol: 0, atol: 0));

        // Pairs with the eos (position 2) or a pad of sequence 1 see only zeros: their logits are the decoder bias.
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                bool real = i < 2 && j < 2;
                using var pair = logits[1, i, j];
                if (!real) Assert.True(pair.allclose(bias, rtol: 0, atol: 0), $"pair ({i}, {j})");
                else Assert.False(pair.allclose(bias));
            }
        }

        // Sequence 0 does not depend on what sequence 1 holds.
        using var alone = head.Forward(attentions.Select(a => a.narrow(0, 0, 1)).ToArray(), ids.narrow(0, 0, 1), mask.narrow(0, 0, 1));
        Assert.True(alone.allclose(logits.narrow(0, 0, 1), rtol: 1e-6, atol: 1e-7));
        foreach (var a in attentions) a.Dispose();
    }

    [Fact]
    public void ContactAttentionHeadWithoutSpecialTokensKeepsEveryPosition()
    {
        using var head = new ContactAttentionHead(1, 1, bosTokenId: null, eosTokenId: null);
        Set(head, "decoder.weight", new float[] { 1 });
        Set(head, "decoder.bias", new float[] { 0 });
        using var map = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 1, 1, 2, 2 });
        using var ids = tensor(new long[] { A, A }, new long[] { 1, 2 });
        using var mask = ones(1, 2, ScalarType.Int64);
        using var logits = head.Forward(new[] { map }, ids, mask);
        AssertRows(new[] { new double[] { 1, 2.5 }, new double[] { 2.5, 4 } }, logits[0].squeeze(-1));
    }

    [Fact]
    public void ContactAttentionHeadRejectsAWrongChannelCount()
    {
        using var head = new ContactAttentionHead(4, 1, Cls, Eos);
        using var map = rand(1, 3, 3, 3);
        using var ids = tensor(new long[] { Cls, A, Eos }, new long[] { 1, 3 });
        using var mask = ones(1, 3, ScalarType.Int64);
        Assert.Contains("4 attention maps", Assert.Throws<ArgumentException>(() => head.Forward(new[] { map }, ids, mask)).Message);
        Assert.Throws<ArgumentException>(() => head.Forward(Array.Empty<Tensor>(), ids, mask));
    }
}
