using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;

namespace RnaLm.Native;

/// <summary>
/// Scaled dot-product attention over the keys for inference, on <see cref="PackedSgemm"/>'s packing and micro-kernel:
/// for each (record, head) and block of <see cref="QueryBlock"/> queries, the scores against every key go to a
/// per-thread buffer, the softmax runs on them in place and the block's context is their product with the values.
/// The [B, h, L, L] scores are never materialised.
/// </summary>
internal static unsafe class PackedAttention
{
    /// <summary>Queries per block: their scores, QueryBlock × L floats, stay in L2 for L up to about 2,000.</summary>
    public const int QueryBlock = 48;

    /// <summary>
    /// <c>out[b, l, h·d + j] = Σₘ softmax_m(scale·q·k + mask[b, m])·v[b, m, h·d + j]</c>, where q, k, v and out
    /// are [B, L, h·d] row-major (the heads side by side, as the projections produce them).
    /// </summary>
    /// <param name="q">Queries [B, L, h·d].</param>
    /// <param name="k">Keys [B, L, h·d].</param>
    /// <param name="v">Values [B, L, h·d].</param>
    /// <param name="mask">[B, L] additive key mask, or null.</param>
    /// <param name="output">[B, L, h·d]; not read.</param>
    /// <param name="batch">B.</param>
    /// <param name="heads">h.</param>
    /// <param name="length">L.</param>
    /// <param name="headSize">d.</param>
    /// <param name="scale">Multiplies the scores before the mask is added.</param>
    /// <param name="threads">Most threads to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(float* q, float* k, float* v, float* mask, float* output,
        int batch, int heads, int length, int headSize, float scale, int threads)
    {
        int width = heads * headSize;
        int blocks = (length + QueryBlock - 1) / QueryBlock;
        long items = (long)batch * heads * blocks;
        long qAddress = (long)q, kAddress = (long)k, vAddress = (long)v, maskAddress = (long)mask, outAddress = (long)output;
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Item(long item)
        {
            int block = (int)(item % blocks);
            int head = (int)(item / blocks % heads);
            int record = (int)(item / blocks / heads);
            long offset = (long)record * length * width + (long)head * headSize;
            int q0 = block * QueryBlock;
            int rows = Math.Min(QueryBlock, length - q0);
            float* recordMask = maskAddress == 0 ? null : (float*)maskAddress + (long)record * length;
            var workspace = PackedSgemm.Rent();
            try
            {
                long stride = (length + 15) & ~15L;
                float* scores = workspace.Scratch(QueryBlock * stride);
                // Scores of the block against every key: [rows, L].
                PackedSgemm.Product(workspace, (float*)qAddress + offset + (long)q0 * width, width,
                    (float*)kAddress + offset, width, transposedW: false, null, scores, stride, rows, headSize, 0, length);
                for (int i = 0; i < rows; i++) Softmax(scores + i * stride, recordMask, length, scale);
                // Context of the block: [rows, d] = probabilities [rows, L] · values [L, d].
                PackedSgemm.Product(workspace, scores, stride, (float*)vAddress + offset, width, transposedW: true, null,
                    (float*)outAddress + offset + (long)q0 * width, width, rows, length, 0, headSize);
            }
            finally
            {
                PackedSgemm.Return(workspace);
            }
        }
        if (threads <= 1 || items == 1)
        {
            for (long item = 0; item < items; item++) Item(item);
        }
        else
        {
            Parallel.For(0L, items, new ParallelOptions { MaxDegreeOfParallelism = threads }, Item);
        }
    }

    /// <summary>In place: <c>row[m] ← exp(scale·row[m] + mask[m] − max) / Σ</c> over m &lt; length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Softmax(float* row, float* mask, int length, float scale)
    {
        int full = length & ~15;
        var scaleV = Vector512.Create(scale);
        var maxV = Vector512.Create(float.NegativeInfinity);
        for (int m = 0; m < full; m += 16)
        {
            var x = Vector512.Load(row + m) * scaleV;
            if (mask != null) x += Vector512.Load(mask + m);
            x.Store(row + m);
            maxV = Vector512.Max(maxV, x);
        }
        float max = float.NegativeInfinity;
        for (int lane = 0; lane < 16; lane++) max = Math.Max(max, maxV.GetElement(lane));
        for (int m = full; m < length; m++)
        {
            float x = row[m] * scale + (mask != null ? mask[m] : 0f);
            row[m] = x;
            max = Math.Max(max, x);
        }
        var maxB = Vector512.Create(max);
        var sumV = Vector512<float>.Zero;
        for (int m = 0; m < full; m += 16)
        {
            var e = Vector512.Exp(Vector512.Load(row + m) - maxB);
            e.Store(row + m);
            sumV += e;
        }
        float sum = Vector512.Sum(sumV);
        for (int m = full; m < length; m++)
        {
            float e = MathF.Exp(row[m] - max);
            row[m] = e;
            sum += e;
        }
        var inverse = Vector512.Create(1f / sum);
        for (int m = 0; m < full; m += 16) (Vector512.Load(row + m) * inverse).Store(row + m);
        float inv = 1f / sum;
        for (int m = full; m < length; m++) row[m] *= inv;
    }
}
