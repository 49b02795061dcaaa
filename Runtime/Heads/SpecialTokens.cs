using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>Removes &lt;cls&gt; and &lt;eos&gt; positions from token-level features the way MultiMolecule's heads do (models.md §1.7).</summary>
public static class SpecialTokens
{
    /// <summary>
    /// Drops the first position when every row starts with <paramref name="bosTokenId"/>; when every row contains
    /// <paramref name="eosTokenId"/>, zeroes the eos positions in the mask and drops the last position; finally multiplies
    /// the features by the trimmed mask.
    /// </summary>
    /// <param name="hiddenStates">[B, L, ...] features.</param>
    /// <param name="inputIds">[B, L] token ids.</param>
    /// <param name="attentionMask">[B, L] 1 = real token.</param>
    /// <param name="bosTokenId">The beginning-of-sequence token id, or null when the vocabulary has none.</param>
    /// <param name="eosTokenId">The end-of-sequence token id, or null when the vocabulary has none.</param>
    /// <returns>Features [B, L', ...] and mask [B, L'] (L' = L without the removed positions).</returns>
    public static (Tensor Features, Tensor Mask) Remove(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask, long? bosTokenId, long? eosTokenId)
    {
        using var scope = NewDisposeScope();
        var features = hiddenStates;
        var ids = inputIds;
        var mask = attentionMask;
        if (bosTokenId is long bos && ids.select(1, 0).eq(bos).all().item<bool>())
        {
            features = features.narrow(1, 1, features.shape[1] - 1);
            ids = ids.narrow(1, 1, ids.shape[1] - 1);
            mask = mask.narrow(1, 1, mask.shape[1] - 1);
        }
        if (eosTokenId is long eos)
        {
            var isEos = ids.eq(eos);
            if (isEos.any(1).all().item<bool>())
            {
                mask = mask.masked_fill(isEos, 0);
                long length = features.shape[1] - 1;
                features = features.narrow(1, 0, length);
                mask = mask.narrow(1, 0, length);
            }
        }
        var expanded = mask.to_type(features.dtype);
        for (long d = 2; d < features.dim(); d++) expanded = expanded.unsqueeze(-1);
        var result = features * expanded;
        return (result.MoveToOuterDisposeScope(), mask.clone().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The 2-D form for pair features [B, L, L, ...] (models.md §1.7, families-esm.md §0 "ContactAttentionHead"): drops
    /// row and column 0 when every row starts with <paramref name="bosTokenId"/>; when every row contains
    /// <paramref name="eosTokenId"/>, zeroes the eos rows and columns, zeroes them in the mask and drops the last row
    /// and column; finally multiplies by the pair mask <c>m_i·m_j</c> of the trimmed mask.
    /// </summary>
    /// <param name="pairs">[B, L, L, ...] pair features.</param>
    /// <param name="inputIds">[B, L] token ids.</param>
    /// <param name="attentionMask">[B, L] 1 = real token.</param>
    /// <param name="bosTokenId">&lt;cls&gt; id, or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id, or null.</param>
    /// <returns>Pair features [B, L', L', ...], the trimmed mask [B, L'] and the trimmed ids [B, L'].</returns>
    public static (Tensor Pairs, Tensor Mask, Tensor Ids) Remove2D(Tensor pairs, Tensor inputIds, Tensor attentionMask, long? bosTokenId, long? eosTokenId)
    {
        using var scope = NewDisposeScope();
        var map = pairs;
        var ids = inputIds;
        var mask = attentionMask;
        if (bosTokenId is long bos && ids.select(1, 0).eq(bos).all().item<bool>())
        {
            long length = map.shape[1] - 1;
            map = map.narrow(1, 1, length).narrow(2, 1, length);
            ids = ids.narrow(1, 1, length);
            mask = mask.narrow(1, 1, length);
        }
        if (eosTokenId is long eos)
        {
            var isEos = ids.eq(eos);                                                     // [B, L]
            if (isEos.any(1).all().item<bool>())
            {
                var keep = isEos.logical_not().to_type(map.dtype);                          // [B, L]
                map = map * Expand(keep.unsqueeze(2) * keep.unsqueeze(1), map.dim());     // eos rows and columns to 0
                mask = mask.masked_fill(isEos, 0);
                long length = map.shape[1] - 1;
                map = map.narrow(1, 0, length).narrow(2, 0, length);
                ids = ids.narrow(1, 0, length);
                mask = mask.narrow(1, 0, length);
            }
        }
        var real = mask.to_type(map.dtype);                                                // [B, L']
        map = map * Expand(real.unsqueeze(2) * real.unsqueeze(1), map.dim());               // pair mask m_i·m_j
        return (map.MoveToOuterDisposeScope(), mask.clone().MoveToOuterDisposeScope(), ids.clone().MoveToOuterDisposeScope());
    }

    // [B, L, L] -> [B, L, L, 1, ...] so it broadcasts over the trailing feature dimensions.
    private static Tensor Expand(Tensor pairMask, long dims)
    {
        var expanded = pairMask;
        for (long d = 3; d < dims; d++) expanded = expanded.unsqueeze(-1);
        return expanded;
    }
}
