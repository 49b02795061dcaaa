using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// Partial, interleaved rotary position embedding (models.md §5.3): for each pair k, features (2k, 2k+1) of the
/// first <c>2·len(freqs)</c> features of every head are rotated by <c>p·freqs[k]</c>, p = 0..L-1; the rest of each head
/// is unchanged. The frequencies are a stored, non-trainable parameter (<c>rotary_embeddings.freqs</c>).
/// </summary>
public sealed class RotaryEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter freqs;

    /// <param name="rotaryDim">Features per head that rotate (even).</param>
    /// <param name="theta">Frequency base: <c>freqs[k] = theta^(-2k/rotaryDim)</c> until a checkpoint overwrites them.</param>
    public RotaryEmbedding(long rotaryDim, double theta) : base("rotary_embeddings")
    {
        using (no_grad())
        {
            var initial = pow(theta, -arange(0, rotaryDim, 2, ScalarType.Float32) / rotaryDim);
            freqs = new Parameter(initial, requires_grad: false);
        }
        RegisterComponents();
    }

    /// <summary>Rotates queries or keys [B, h, L, d]; positions are the indices along dim 2.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long length = x.shape[2];
        long rotary = freqs.shape[0] * 2;
        var positions = arange(length, ScalarType.Float32, x.device);                 // [L]
        var angles = positions.unsqueeze(1) * freqs.unsqueeze(0);                     // [L, r/2]
        angles = angles.repeat_interleave(2, 1).to_type(x.dtype);                      // [L, r]: f0 f0 f1 f1 …
        var rotated = x.narrow(-1, 0, rotary);                                         // [B, h, L, r]
        var shape = rotated.shape;
        var pairShape = new long[shape.Length + 1];
        Array.Copy(shape, pairShape, shape.Length - 1);
        pairShape[^2] = rotary / 2;
        pairShape[^1] = 2;
        var pairs = rotated.reshape(pairShape);                                        // [B, h, L, r/2, 2]
        var halfTurn = stack(new[] { -pairs.select(-1, 1), pairs.select(-1, 0) }, -1).reshape(shape); // (-x1, x0) per pair
        var result = rotated * angles.cos() + halfTurn * angles.sin();
        if (rotary < x.shape[^1]) result = cat(new[] { result, x.narrow(-1, rotary, x.shape[^1] - rotary) }, -1);
        return result.MoveToOuterDisposeScope();
    }
}
