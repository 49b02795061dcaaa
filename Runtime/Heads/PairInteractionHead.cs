using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>
/// RNA–RNA interaction head (the RNAErnie paper's design for miRNA–target prediction): the token features of the two
/// sequences (special tokens removed) are joined end to end, a 1-D convolution (kernel 5, ReLU) mixes neighbouring
/// positions, a bidirectional LSTM reads the joined sequence, and an MLP on its two final states gives one logit that
/// the pair interacts. Keys <c>pair_head.conv.*</c> [C, H, 5], <c>pair_head.lstm.*</c> (one layer, both directions,
/// hidden C), <c>pair_head.dense.*</c> [C, 2C], <c>pair_head.decoder.*</c> [1, C]. Padding never reaches the result:
/// padded positions are zero before the convolution (as the convolution's own zero padding would be) and the LSTM reads
/// packed sequences of each pair's true length, so the logit of a pair does not depend on the rest of its batch.
/// </summary>
public sealed class PairInteractionHead : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Width of the convolution.</summary>
    public const int KernelSize = 5;

    private readonly Conv1d conv;
    private readonly LSTM lstm;
    private readonly Linear dense;
    private readonly Linear decoder;

    /// <param name="hiddenSize">H, the backbone's feature size.</param>
    /// <param name="channels">C, the convolution's channels and the LSTM's hidden size per direction.</param>
    public PairInteractionHead(long hiddenSize, long channels) : base("pair_head")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        conv = nn.Conv1d(hiddenSize, channels, KernelSize, padding: KernelSize / 2);
        lstm = nn.LSTM(channels, channels, numLayers: 1, batchFirst: true, bidirectional: true);
        dense = nn.Linear(2 * channels, channels);
        decoder = nn.Linear(channels, 1);
        RegisterComponents();
    }

    /// <summary>
    /// The convolution (same padding) as windows times the kernel: <c>conv.weight</c> [C, H, K] applied to the K-wide
    /// windows of x [B, H, L] by one matrix product. Equal to <c>conv1d</c>, whose CPU backward in libtorch 2.10
    /// intermittently returns NaN input gradients on its first call for small channel counts.
    /// </summary>
    private Tensor Convolve(Tensor x)
    {
        using var scope = NewDisposeScope();
        var windows = nn.functional.pad(x, new long[] { KernelSize / 2, KernelSize / 2 }).unfold(2, KernelSize, 1); // [B, H, L, K]
        var y = einsum("bhlk,chk->bcl", windows, conv.weight) + conv.bias!.view(1, -1, 1);                         // [B, C, L]
        return y.MoveToOuterDisposeScope();
    }

    /// <param name="features">[B, L, H] joined token features of each pair, zero beyond its length.</param>
    /// <param name="lengths">[B] int64: real positions of each pair (at least 1).</param>
    /// <returns>[B] interaction logits.</returns>
    public override Tensor forward(Tensor features, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        long b = features.shape[0], l = features.shape[1];
        var mask = arange(l, int64, features.device).unsqueeze(0).lt(lengths.unsqueeze(1)).unsqueeze(-1).to_type(features.dtype); // [B, L, 1]
        var x = (features * mask).transpose(1, 2);                 // [B, H, L]
        x = nn.functional.relu(Convolve(x)).transpose(1, 2) * mask; // [B, L, C]
        var packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first: true, enforce_sorted: false);
        var (_, hidden, _) = lstm.call(packed);                      // hidden [2, B, C]: forward, backward
        var final = hidden.transpose(0, 1).reshape(b, -1);          // [B, 2C]
        var logits = decoder.call(nn.functional.relu(dense.call(final))).squeeze(-1);
        return logits.MoveToOuterDisposeScope();
    }
}
