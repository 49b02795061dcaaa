namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"attention.softmax"</c>: how scores become attention probabilities and how padding is masked. Its template
/// builds the masks once per forward (fragment <c>model.masks</c>) and applies them around the softmax (fragment
/// <c>attention.probabilities</c>). A kind whose softmax is the standard one over keys may also give fragment
/// <c>attention.fused</c>: the context from one fused kernel, used when the caller wants no probabilities and no bias
/// kind needs the logits.
/// </summary>
internal abstract class SoftmaxKind : Kind
{
    /// <summary>The template has fragment <c>attention.fused</c> (locals q, k, v [B, h, L, d]; it assigns <c>fused</c>).</summary>
    public abstract bool HasFusedKernel { get; }
}
