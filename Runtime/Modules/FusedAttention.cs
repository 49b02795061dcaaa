using System;
using RnaLm.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// The generated attention's fused path: <c>softmax(q·kᵀ/√d + mask)·v</c> without materialising the [B, h, L, L]
/// scores, as <c>scaled_dot_product_attention</c>, computed by RnaLm's AVX-512 kernels where they apply and by libtorch
/// everywhere else.
/// </summary>
/// <remarks>
/// RnaLm's path (<see cref="UsesKernel"/>) serves float32 CPU inference (no dropout, no gradient wanted) with a
/// key-padding mask [B or 1, 1, 1, L] or none and heads of 32 to 384 features, on processors with AVX-512F (<see cref="Dense.KernelEnabled"/>): per
/// record, head and block of 48 queries, the scores against all keys are a per-thread buffer that the softmax
/// overwrites and the product with the values reads, on the same packing and micro-kernel as <see cref="Dense"/>.
/// libtorch's CPU kernel runs its products at about 90 GFLOP/s on this project's machine at 8 × 512 tokens;
/// docs/benchmarks.md measures both.
/// </remarks>
public static class FusedAttention
{
    /// <summary>
    /// The smallest head size RnaLm's kernel takes: its tiles are 32 features wide, so smaller heads leave most of each
    /// product idle (RNABERT's heads of 10 ran 2× slower than libtorch's kernel at 8 × 440 tokens).
    /// </summary>
    public const int MinimumHeadSize = 32;

    /// <summary>The attention of <paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/> ([B, h, L, d] each).</summary>
    /// <param name="q">Queries [B, h, L, d].</param>
    /// <param name="k">Keys [B, h, L, d].</param>
    /// <param name="v">Values [B, h, L, d].</param>
    /// <param name="mask">Additive mask broadcastable to [B, h, L, L], or null.</param>
    /// <param name="dropout">Dropout probability on the attention weights (training only).</param>
    /// <returns>[B, h, L, d]; on RnaLm's path a view of a [B, L, h·d] tensor, so merging the heads costs no copy.</returns>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropout)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        if (!UsesKernel(q, k, v, mask, dropout)) return nn.functional.scaled_dot_product_attention(q, k, v, mask, dropout);
        return Kernel(q, k, v, mask);
    }

    /// <summary>Whether <see cref="Apply"/> runs RnaLm's kernel for these tensors.</summary>
    /// <param name="q">Queries [B, h, L, d].</param>
    /// <param name="k">Keys.</param>
    /// <param name="v">Values.</param>
    /// <param name="mask">The additive mask, or null.</param>
    /// <param name="dropout">Dropout probability.</param>
    public static bool UsesKernel(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropout)
    {
        if (!Dense.KernelEnabled || dropout > 0) return false;
        if (q.dim() != 4 || !q.shape.AsSpan().SequenceEqual(k.shape) || !q.shape.AsSpan().SequenceEqual(v.shape)) return false;
        foreach (var t in new[] { q, k, v })
        {
            if (t.device_type != DeviceType.CPU || t.dtype != ScalarType.Float32) return false;
        }
        long batch = q.shape[0], heads = q.shape[1], length = q.shape[2], headSize = q.shape[3];
        if (batch == 0 || heads == 0 || length == 0 || headSize < MinimumHeadSize || headSize > PackedSgemm.KC) return false;
        if (batch * length * heads * headSize > int.MaxValue / sizeof(float) || length > int.MaxValue / PackedAttention.QueryBlock) return false;
        if (mask is not null)
        {
            if (mask.device_type != DeviceType.CPU || mask.dtype != ScalarType.Float32 || mask.dim() != 4) return false;
            var shape = mask.shape;
            if ((shape[0] != batch && shape[0] != 1) || shape[1] != 1 || shape[2] != 1 || shape[3] != length) return false;
        }
        if (is_grad_enabled() && (q.requires_grad || k.requires_grad || v.requires_grad)) return false;
        return true;
    }

    private static unsafe Tensor Kernel(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        int batch = (int)q.shape[0], heads = (int)q.shape[1], length = (int)q.shape[2], headSize = (int)q.shape[3];
        using var scope = NewDisposeScope();
        // [B, h, L, d] views of the projections' [B, L, h·d] are contiguous once transposed back (no copy then).
        var qRows = q.transpose(1, 2).contiguous();
        var kRows = k.transpose(1, 2).contiguous();
        var vRows = v.transpose(1, 2).contiguous();
        var keyMask = mask?.expand(batch, 1, 1, length).reshape(batch, length).contiguous();
        var output = empty(new long[] { batch, length, heads * headSize }, ScalarType.Float32, CPU);
        fixed (byte* qp = qRows.bytes, kp = kRows.bytes, vp = vRows.bytes, op = output.bytes)
        {
            fixed (byte* mp = keyMask is null ? default : keyMask.bytes)
            {
                PackedAttention.Attend((float*)qp, (float*)kp, (float*)vp, (float*)mp, (float*)op,
                    batch, heads, length, headSize, (float)(1 / Math.Sqrt(headSize)), Math.Max(1, get_num_threads()));
            }
        }
        return output.view(batch, length, heads, headSize).transpose(1, 2).MoveToOuterDisposeScope();
    }
}
