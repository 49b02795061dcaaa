using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// ESM token dropout, applied at inference too (families-esm.md §0 "Token dropout", families-bert2.md §1.3): the
/// embedding rows of <c>&lt;mask&gt;</c> tokens become 0, then every row of sequence b is multiplied by
/// <c>1 − 0.15·0.8 = 0.88</c> (the training mask ratio) and divided by <c>1 − m_b/n_b</c>, where m_b is the number of
/// <c>&lt;mask&gt;</c> tokens of the sequence and n_b the sum of its attention mask. Without any mask the factor is
/// still 0.88. UTR-LM and RiNALMo use it; RNA-FM and CaLM have it switched off.
/// </summary>
public static class TokenDropout
{
    /// <summary>The masking ratio of pre-training, 0.15 of the tokens chosen, 0.8 of those replaced by <c>&lt;mask&gt;</c>.</summary>
    public const double TrainingMaskRatio = 0.15 * 0.8;

    /// <summary>
    /// Applies token dropout. The float operations follow the reference order: <c>(x · 0.88) / (1 − ratio)</c> with
    /// <c>ratio = m_b / n_b</c> computed in the embedding dtype. Padded rows are rescaled like the others (the caller
    /// zeroes them afterwards with the attention mask). A row whose attention mask is all zero (n_b = 0) is treated as
    /// having ratio 0 rather than dividing by zero.
    /// </summary>
    /// <param name="embeddings">Word embeddings [B, L, H].</param>
    /// <param name="inputIds">Token ids [B, L].</param>
    /// <param name="attentionMask">[B, L], 1 = real token (special tokens included), 0 = padding.</param>
    /// <param name="maskTokenId">Id of <c>&lt;mask&gt;</c>.</param>
    /// <returns>The rescaled embeddings [B, L, H], same dtype.</returns>
    public static Tensor Apply(Tensor embeddings, Tensor inputIds, Tensor attentionMask, long maskTokenId)
    {
        using var scope = NewDisposeScope();
        var dtype = embeddings.dtype;
        var isMask = inputIds.eq(maskTokenId);                                              // [B, L]
        var x = embeddings.masked_fill(isMask.unsqueeze(-1), 0.0);                          // [B, L, H]
        var masks = isMask.sum(1).to_type(dtype);                                           // [B] m_b
        var lengths = attentionMask.sum(1).clamp_min(1).to_type(dtype);                     // [B] n_b
        var ratio = masks / lengths;                                                        // [B]
        var kept = (-ratio + 1.0).view(-1, 1, 1);                                           // [B, 1, 1] 1 − m_b/n_b
        var result = x.mul(1.0 - TrainingMaskRatio).div(kept);
        return result.MoveToOuterDisposeScope();
    }
}
