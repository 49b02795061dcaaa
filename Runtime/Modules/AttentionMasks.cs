using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>Attention masks with MultiMolecule's semantics (models.md §1.4).</summary>
public static class AttentionMasks
{
    /// <summary>The most negative float32, used for masked logits (<c>finfo(float32).min</c>).</summary>
    public const float MinValue = float.MinValue;

    /// <summary>
    /// The additive key-padding mask [B, 1, 1, L]: 0 where the key is a real token, <see cref="MinValue"/> where it is
    /// padding; null when nothing is padded (the reference then uses no mask at all).
    /// </summary>
    /// <param name="attentionMask">[B, L], 1 = real token, 0 = padding.</param>
    /// <param name="dtype">The floating-point type of the mask (that of the attention scores it is added to).</param>
    public static Tensor? KeyPadding(Tensor attentionMask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var keep = attentionMask.to_type(ScalarType.Bool);
        if (keep.all().item<bool>()) return null;
        // [B, L] -> [B, 1, 1, L]
        var additive = zeros_like(attentionMask, dtype).masked_fill(keep.logical_not(), MinValue);
        return additive.unsqueeze(1).unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Derives the attention mask from token ids (<c>ids != pad</c>) when the caller gives none.</summary>
    public static Tensor FromInputIds(Tensor inputIds, long padTokenId) => inputIds.ne(padTokenId).to_type(ScalarType.Int64);
}

/// <summary>Masks for attention whose softmax runs over the query axis (ncRNABert, models.md §5.3).</summary>
public static class QueryAxisMasks
{
    /// <summary>
    /// The additive query-row mask [B, 1, L, 1] (<c>(1 − m)·min</c>) and the post-softmax pair mask [B, 1, L, L]
    /// (<c>m_i·m_j</c>); both null when nothing is padded (adding 0 and multiplying by 1 change nothing).
    /// </summary>
    public static (Tensor? RowMask, Tensor? PairMask) Create(Tensor attentionMask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var keep = attentionMask.to_type(ScalarType.Bool);
        if (keep.all().item<bool>()) return (null, null);
        var real = keep.to_type(dtype);                                                                    // [B, L]
        var rows = zeros_like(real).masked_fill(keep.logical_not(), AttentionMasks.MinValue).unsqueeze(1).unsqueeze(-1); // [B, 1, L, 1]
        var pairs = (real.unsqueeze(2) * real.unsqueeze(1)).unsqueeze(1);                                 // [B, 1, L, L]
        return (rows.MoveToOuterDisposeScope(), pairs.MoveToOuterDisposeScope());
    }
}
