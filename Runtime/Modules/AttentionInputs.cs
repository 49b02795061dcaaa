using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// What every generated attention layer receives besides the hidden states: the padding masks built once per forward
/// pass, the bias an attention-bias kind adds to the scores, and whether the caller wants the probabilities back. One
/// record for every spec, so the layer signatures do not change with the number of biases a spec declares.
/// </summary>
/// <param name="Mask">
/// The additive mask applied before the softmax: [B, 1, 1, L] on padded keys (softmax over keys) or [B, 1, L, 1] on
/// padded queries (softmax over queries); null when nothing is padded.
/// </param>
/// <param name="PairMask">The post-softmax pair mask [B, 1, L, L] (softmax over queries); null otherwise.</param>
/// <param name="Bias">The additive bias [B, h, L, L] of this layer (a pair prior, or the previous layer's logits); null without one.</param>
/// <param name="KeepProbabilities">Return each layer's attention probabilities (only when the caller asked for attentions).</param>
public sealed record AttentionInputs(Tensor? Mask, Tensor? PairMask = null, Tensor? Bias = null, bool KeepProbabilities = true);

/// <summary>What an attention layer returns: the new hidden states, and optionally its probabilities and carried logits.</summary>
/// <param name="Hidden">[B, L, H] (the context for the self-attention, the layer output for a layer).</param>
/// <param name="Probabilities">Post-softmax probabilities [B, h, L, L] when <see cref="AttentionInputs.KeepProbabilities"/>, else null.</param>
/// <param name="Logits">The pre-softmax logits [B, h, L, L] a carried bias hands to the next layer; null without one.</param>
public readonly record struct AttentionResult(Tensor Hidden, Tensor? Probabilities = null, Tensor? Logits = null)
{
    /// <summary>Moves every tensor of the result to the enclosing dispose scope (at the end of a forward).</summary>
    public AttentionResult MoveToOuterDisposeScope()
    {
        Hidden.MoveToOuterDisposeScope();
        Probabilities?.MoveToOuterDisposeScope();
        Logits?.MoveToOuterDisposeScope();
        return this;
    }
}
