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

/// <summary>
/// Which of a generated attention's two paths computes a forward that keeps no probabilities: libtorch's fused
/// <c>scaled_dot_product_attention</c> or the explicit product (scores, softmax, product with the values).
/// </summary>
/// <remarks>
/// The fused kernel never materialises the [B, h, L, L] scores, which is what long inputs and large batches need; but
/// for short inputs libtorch's CPU kernel works in blocks too large for them and is two to three times slower than the
/// explicit product (one 128-token record, 12 heads of 64: 2.4 ms against 1.1 ms a layer); RnaLm's fused kernel
/// (<see cref="FusedAttention"/>) is slower there too (1.3 ms against 0.7 ms), its per-block work being too small to
/// pay for the packing. The explicit product is
/// taken while its scores are smaller than <see cref="ExplicitScoresBytes"/>, so they come from the allocator's heap
/// and need no fresh pages; at 1 × 256 tokens it is already slower than the fused kernel (17 ms against 4.7 ms).
/// </remarks>
public static class AttentionPaths
{
    /// <summary>Scores [B, h, L, L] of float32 below this many bytes take the explicit path.</summary>
    public const long ExplicitScoresBytes = 2L << 20;

    private static readonly System.Threading.AsyncLocal<bool?> Forced = new();

    /// <summary>Whether an attention of this shape that keeps no probabilities runs the fused kernel.</summary>
    /// <param name="batch">B.</param>
    /// <param name="heads">h.</param>
    /// <param name="length">L.</param>
    public static bool Fused(long batch, long heads, long length)
        => Forced.Value ?? (double)batch * heads * length * length * sizeof(float) >= ExplicitScoresBytes;

    /// <summary>Sends every attention of the current thread (and its async flow) to one path until disposed, so tests
    /// can check both paths on small inputs.</summary>
    internal static System.IDisposable Force(bool fused)
    {
        var previous = Forced.Value;
        Forced.Value = fused;
        return new Restore(previous);
    }

    private sealed class Restore(bool? previous) : System.IDisposable
    {
        public void Dispose() => Forced.Value = previous;
    }
}
