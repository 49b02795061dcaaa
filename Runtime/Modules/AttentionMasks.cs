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
