using System;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// Fairseq-style sinusoidal position embeddings (models.md §2.2): row p is
/// <c>[sin(p·f_0) … sin(p·f_{h-1}), cos(p·f_0) … cos(p·f_{h-1})]</c> with <c>h = H/2</c> and
/// <c>f_k = exp(-k·ln(10000)/(h-1))</c>, computed in float32 in PyTorch's operation order; row 0 (the padding row)
/// is zero; an odd H gets one extra zero column. Never stored in checkpoints; the table covers any length.
/// </summary>
public static class SinusoidalPositions
{
    /// <summary>The first <paramref name="rows"/> rows of the table [rows, dim], float32.</summary>
    public static Tensor Table(long rows, long dim, long paddingIndex, Device? device = null)
    {
        using var scope = NewDisposeScope();
        long half = dim / 2;
        double step = Math.Log(10000.0) / (half - 1);
        var frequencies = exp(arange(half, ScalarType.Float32, device) * -step);                       // [h]
        var angles = arange(rows, ScalarType.Float32, device).unsqueeze(1) * frequencies.unsqueeze(0); // [rows, h]
        var table = cat(new[] { angles.sin(), angles.cos() }, 1);                                      // [rows, 2h]
        if (dim % 2 == 1) table = cat(new[] { table, zeros(rows, 1, ScalarType.Float32, device) }, 1);
        if (paddingIndex >= 0 && paddingIndex < rows) table[paddingIndex] = zeros(dim, ScalarType.Float32, device);
        return table.MoveToOuterDisposeScope();
    }

    /// <summary>Padding-aware position ids (<see cref="Modules.PositionIds.PaddingAware"/>).</summary>
    public static Tensor PositionIds(Tensor inputIds, long paddingIndex, long offset) => Modules.PositionIds.PaddingAware(inputIds, paddingIndex, offset);

    /// <summary>Looks up the position embeddings [B, L, dim] for <paramref name="inputIds"/>.</summary>
    public static Tensor Embed(Tensor inputIds, long dim, long paddingIndex, long offset, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var positions = PositionIds(inputIds, paddingIndex, offset);            // [B, L]
        long rows = positions.max().item<long>() + 1;
        var table = Table(rows, dim, paddingIndex, inputIds.device).to_type(dtype); // [rows, dim]
        var embedded = table.index_select(0, positions.flatten()).view(positions.shape[0], positions.shape[1], dim);
        return embedded.MoveToOuterDisposeScope();
    }
}
