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
}
