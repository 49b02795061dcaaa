using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>Position ids the embedding kinds look rows up with.</summary>
public static class PositionIds
{
    /// <summary>
    /// Padding-aware ids (fairseq): a real token gets (number of real tokens up to and including it) + padding index +
    /// offset, a pad token gets padding index + offset. [B, L] int64.
    /// </summary>
    public static Tensor PaddingAware(Tensor inputIds, long paddingIndex, long offset)
    {
        using var scope = NewDisposeScope();
        var real = inputIds.ne(paddingIndex).to_type(ScalarType.Int64);  // [B, L]
        var positions = real.cumsum(1) * real + paddingIndex + offset;
        return positions.MoveToOuterDisposeScope();
    }
}
