using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>One pre-activation residual block: <c>x + conv2(relu(conv1(relu(norm(x)))))</c> (keys <c>norm</c>, <c>conv1</c>, <c>conv2</c>).</summary>
public sealed class ResidualConvBlock : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d norm;
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;

    public ResidualConvBlock(long channels, long dilation, int index) : base(index.ToString(System.Globalization.CultureInfo.InvariantCulture))
    {
        norm = nn.BatchNorm2d(channels);
        conv1 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
        conv2 = nn.Conv2d(channels, channels, 3, padding: dilation, dilation: dilation, bias: false);
        RegisterComponents();
    }

    /// <param name="x">[B, C, L, L].</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var t = conv1.call(nn.functional.relu(norm.call(x)));
        t = conv2.call(nn.functional.relu(t));
        return (x + t).MoveToOuterDisposeScope();
    }
}

/// <summary>The residual tower of the SS head (keys <c>convnet.blocks.{k}</c>, <c>convnet.projection</c>).</summary>
public sealed class ResidualConvNet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResidualConvBlock> blocks;
    private readonly Conv2d projection;

    public ResidualConvNet(long channels, int numBlocks) : base("convnet")
    {
        var list = new ResidualConvBlock[numBlocks];
        for (int k = 0; k < numBlocks; k++) list[k] = new ResidualConvBlock(channels, 1L << (k % 3), k);
        blocks = nn.ModuleList(list);
        projection = nn.Conv2d(channels, 1, 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="x">[B, C, L, L].</param>
    /// <returns>[B, 1, L, L].</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var block in blocks) h = block.call(h);
        return projection.call(h).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// ERNIE-RNA's secondary-structure head (models.md §2.5): reads one head of the last layer's carried attention logits,
/// removes special tokens, runs a stem (7×7 convolutions), a dilated residual tower and a projection, symmetrises,
/// and applies the 100-step constrained unrolled optimisation. Returns pairing probabilities in [0, 1].
/// </summary>
public sealed class SecondaryStructureHead : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly ResidualConvNet convnet;
    private readonly long _head;
    private readonly long? _bos;
    private readonly long? _eos;
    private readonly (long A, long C, long G, long U) _bases;

    /// <param name="attentionHead">Index of the attention head to read (5 in ERNIE-RNA).</param>
    /// <param name="channels">Channels of the residual tower (64).</param>
    /// <param name="numBlocks">Residual blocks (8).</param>
    /// <param name="kernelSize">Stem kernel size (7).</param>
    /// <param name="bosTokenId">&lt;cls&gt; id, or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id, or null.</param>
    /// <param name="bases">Token ids of A, C, G and U (for the pairing constraint).</param>
    public SecondaryStructureHead(long attentionHead, long channels, int numBlocks, long kernelSize, long? bosTokenId, long? eosTokenId, (long A, long C, long G, long U) bases)
        : base("ss_head")
    {
        long stem = (long)Math.Round(Math.Sqrt(channels));
        conv1 = nn.Conv2d(1, stem, kernelSize, padding: kernelSize / 2);
        conv2 = nn.Conv2d(stem, channels - 1, kernelSize, padding: kernelSize / 2);
        convnet = new ResidualConvNet(channels, numBlocks);
        _head = attentionHead;
        _bos = bosTokenId;
        _eos = eosTokenId;
        _bases = bases;
        RegisterComponents();
    }

    /// <param name="attentionBias">The last layer's carried attention logits [B, h, L, L].</param>
    /// <param name="inputIds">[B, L].</param>
    /// <param name="attentionMask">[B, L].</param>
    /// <returns>Contact probabilities [B, L', L', 1] (special tokens removed).</returns>
    public override Tensor forward(Tensor attentionBias, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (logits, ids) = Logits(attentionBias, inputIds, attentionMask);
        var contacts = PostProcess(logits, ids);
        return contacts.unsqueeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The symmetric network output X [B, L', L'] and the trimmed ids [B, L'].</summary>
    public (Tensor Logits, Tensor Ids) Logits(Tensor attentionBias, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var map = attentionBias.select(1, _head).unsqueeze(-1);                          // [B, L, L, 1]
        var (trimmed, _, ids) = SpecialTokens.Remove2D(map, inputIds, attentionMask, _bos, _eos); // [B, L', L', 1], pair mask applied
        var a = trimmed.permute(0, 3, 1, 2);                                               // [B, 1, L', L']
        var c = conv2.call(nn.functional.relu(conv1.call(a)));                              // [B, C-1, L', L']
        var x = convnet.call(cat(new[] { c, a }, 1));                                       // [B, 1, L', L']
        x = (x + x.transpose(-1, -2)).squeeze(1);                                          // [B, L', L']
        return (x.MoveToOuterDisposeScope(), ids.MoveToOuterDisposeScope());
    }

    /// <summary>The pairing constraint: 1 where the bases are A–U, C–G or G–U (either order), else 0. [B, L', L'].</summary>
    public Tensor Constraint(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var i = ids.unsqueeze(2);
        var j = ids.unsqueeze(1);
        Tensor Pair(long x, long y) => i.eq(x).logical_and(j.eq(y)).logical_or(i.eq(y).logical_and(j.eq(x)));
        var allowed = Pair(_bases.A, _bases.U).logical_or(Pair(_bases.C, _bases.G)).logical_or(Pair(_bases.G, _bases.U));
        return allowed.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>E2Efold-style constrained optimisation: 100 steps, threshold 1.5, sparsity 1.6, lr 0.01 / 0.1 decaying by 0.99.</summary>
    public Tensor PostProcess(Tensor x, Tensor ids)
    {
        using var scope = NewDisposeScope();
        const double threshold = 1.5, rho = 1.6;
        double lrMin = 0.01, lrMax = 0.1;
        var m = Constraint(ids).to_type(x.dtype);
        static Tensor SoftSign(Tensor z) => (z * 2).sigmoid();
        Tensor Contact(Tensor a)
        {
            var squared = a * a;
            return (squared + squared.transpose(-1, -2)) / 2 * m;
        }
        var u = SoftSign(x - threshold) * x;
        var aHat = u.sigmoid() * SoftSign(u - threshold);
        var lambda = nn.functional.relu(Contact(aHat).sum(-1) - 1);
        for (int step = 0; step < 100; step++)
        {
            using var stepScope = NewDisposeScope();
            var rowSums = Contact(aHat).sum(-1);
            var gradA = (lambda * SoftSign(rowSums - 1)).unsqueeze(-1).expand(u.shape) - u / 2;
            var grad = aHat * m * (gradA + gradA.transpose(-1, -2));
            var nextA = aHat - grad * lrMin;
            lrMin *= 0.99;
            nextA = nn.functional.relu(nextA.abs() - rho * lrMin);
            var nextLambda = lambda + nn.functional.relu(Contact(nextA).sum(-1) - 1) * lrMax;
            lrMax *= 0.99;
            aHat = nextA.MoveToOuterDisposeScope();
            lambda = nextLambda.MoveToOuterDisposeScope();
        }
        return Contact(aHat).clamp(0, 1).MoveToOuterDisposeScope();
    }
}
