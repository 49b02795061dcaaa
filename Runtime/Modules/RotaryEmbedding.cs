using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// Partial rotary position embedding (models.md §5.3): the first <c>r = 2·len(freqs)</c> features of every head are
/// rotated by <c>p·freqs[k]</c>, p = 0..L-1; the rest of each head is unchanged. Interleaved layout rotates pairs
/// (2k, 2k+1); the half layout rotates (k, k + r/2). The frequencies are either a stored, non-trainable parameter
/// (<c>rotary_embeddings.freqs</c>, ncRNABert) or a non-persistent buffer computed from the base.
/// </summary>
public sealed class RotaryEmbedding : nn.Module<Tensor, Tensor>, IComputedBuffers
{
    private readonly Tensor freqs;
    private readonly bool _interleaved;
    private readonly bool _stored;
    private readonly long _rotaryDim;
    private readonly double _theta;

    /// <param name="rotaryDim">Features per head that rotate (even).</param>
    /// <param name="theta">Frequency base: <c>freqs[k] = theta^(-2k/rotaryDim)</c> (a checkpoint may overwrite stored ones).</param>
    /// <param name="interleaved">Rotate pairs (2k, 2k+1) rather than (k, k + r/2).</param>
    /// <param name="storedFrequencies">Keep the frequencies as a parameter that checkpoints hold.</param>
    public RotaryEmbedding(long rotaryDim, double theta, bool interleaved = true, bool storedFrequencies = true) : base("rotary_embeddings")
    {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0) throw new ArgumentException($"The rotary dimension must be positive and even, got {rotaryDim}.", nameof(rotaryDim));
        _interleaved = interleaved;
        _stored = storedFrequencies;
        _rotaryDim = rotaryDim;
        _theta = theta;
        using (no_grad())
        {
            var initial = Frequencies(rotaryDim, theta);
            if (storedFrequencies)
            {
                freqs = new Parameter(initial, requires_grad: false);
            }
            else
            {
                freqs = initial.DetachFromDisposeScope();
                register_buffer("freqs", freqs, persistent: false);
            }
        }
        RegisterComponents();
    }

    private static Tensor Frequencies(long rotaryDim, double theta) => pow(theta, -arange(0, rotaryDim, 2, ScalarType.Float32) / rotaryDim); // [r/2]

    /// <summary>Computed (not stored) frequencies are written again from the base after the storage was replaced.</summary>
    public void ComputeBuffers()
    {
        if (_stored) return;
        using var scope = NewDisposeScope();
        using (no_grad()) freqs.copy_(Frequencies(_rotaryDim, _theta));
    }

    /// <summary>Rotates queries or keys [B, h, L, d]; positions are the indices along dim 2.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long length = x.shape[2];
        long rotary = freqs.shape[0] * 2;
        var positions = arange(length, ScalarType.Float32, x.device);                 // [L]
        var angles = positions.unsqueeze(1) * freqs.unsqueeze(0);                     // [L, r/2]
        var rotated = x.narrow(-1, 0, rotary);                                         // [B, h, L, r]
        Tensor turned;
        if (_interleaved)
        {
            angles = angles.repeat_interleave(2, 1).to_type(x.dtype);                  // [L, r]: f0 f0 f1 f1 …
            var shape = rotated.shape;
            var pairShape = new long[shape.Length + 1];
            Array.Copy(shape, pairShape, shape.Length - 1);
            pairShape[^2] = rotary / 2;
            pairShape[^1] = 2;
            var pairs = rotated.reshape(pairShape);                                    // [B, h, L, r/2, 2]
            turned = stack(new[] { -pairs.select(-1, 1), pairs.select(-1, 0) }, -1).reshape(shape); // (-x1, x0) per pair
        }
        else
        {
            angles = cat(new[] { angles, angles }, 1).to_type(x.dtype);                // [L, r]: f0 … f_{r/2-1} f0 …
            var first = rotated.narrow(-1, 0, rotary / 2);
            var second = rotated.narrow(-1, rotary / 2, rotary / 2);
            turned = cat(new[] { -second, first }, -1);                                // (-x2, x1) per half
        }
        var result = rotated * angles.cos() + turned * angles.sin();
        if (rotary < x.shape[^1]) result = cat(new[] { result, x.narrow(-1, rotary, x.shape[^1] - rotary) }, -1);
        return result.MoveToOuterDisposeScope();
    }
}
