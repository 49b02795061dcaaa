using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Inference;

/// <summary>
/// The 2-D counterpart of <see cref="Chunking.MergeTokens"/> for pair outputs (contact maps): each window gives an
/// output for the pairs of its own tokens, and a pair of record tokens gets the mean over the windows that hold both
/// of its tokens. Pairs that no window holds (tokens farther apart than a window) have no output: their value is 0 and
/// <see cref="MergedPairs.Covered"/> is false.
/// </summary>
public static class PairChunking
{
    /// <summary>Merged pair outputs <c>[N, N, ...]</c> and which pairs some window covered <c>[N, N]</c>.</summary>
    public sealed record MergedPairs(Tensor Values, Tensor Covered);

    /// <summary>
    /// Merges window pair outputs over a record's content tokens. <paramref name="windowOutputs"/>[w] is
    /// <c>[Length_w, Length_w, ...]</c> for window w of <paramref name="windows"/> (content tokens only, no special tokens).
    /// </summary>
    /// <param name="contentLength">N, the record's content tokens.</param>
    /// <param name="windows">The windows (from <see cref="Chunking.Plan"/>).</param>
    /// <param name="windowOutputs">One output per window.</param>
    public static MergedPairs Merge(int contentLength, IReadOnlyList<TokenWindow> windows, IReadOnlyList<Tensor> windowOutputs)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(windowOutputs);
        if (windows.Count != windowOutputs.Count) throw new ArgumentException($"{windowOutputs.Count} window outputs for {windows.Count} windows.", nameof(windowOutputs));
        var first = windowOutputs[0];
        if (windows.Count == 1 && windows[0].Start == 0 && windows[0].Length == contentLength)
        {
            CheckShape(first, windows[0], 0);
            return new MergedPairs(first.alias(), ones(contentLength, contentLength, ScalarType.Bool, first.device));
        }
        long[] shape = (long[])first.shape.Clone();
        shape[0] = contentLength;
        shape[1] = contentLength;
        using var scope = NewDisposeScope();
        var sum = zeros(shape, first.dtype, first.device);
        var counts = zeros(new long[] { contentLength, contentLength }, first.dtype, first.device);
        for (int w = 0; w < windows.Count; w++)
        {
            var window = windows[w];
            CheckShape(windowOutputs[w], window, w);
            sum.narrow(0, window.Start, window.Length).narrow(1, window.Start, window.Length).add_(windowOutputs[w]);
            counts.narrow(0, window.Start, window.Length).narrow(1, window.Start, window.Length).add_(1);
        }
        var covered = counts.gt(0);
        var divisor = counts.clamp_min(1);
        for (long d = 2; d < shape.Length; d++) divisor = divisor.unsqueeze(-1);
        var merged = sum / divisor;
        return new MergedPairs(merged.MoveToOuterDisposeScope(), covered.MoveToOuterDisposeScope());
    }

    private static void CheckShape(Tensor output, TokenWindow window, int index)
    {
        if (output.dim() < 2 || output.shape[0] != window.Length || output.shape[1] != window.Length)
        {
            throw new ArgumentException($"Window {index} has a pair output of shape [{string.Join(", ", output.shape)}]; its tokens are {window.Length}.");
        }
    }
}
