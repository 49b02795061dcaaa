using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Inference;

/// <summary>A window over a record's content tokens (special tokens excluded): tokens [Start, Start + Length).</summary>
/// <param name="Start">Index of the window's first content token.</param>
/// <param name="Length">Number of content tokens in the window.</param>
public readonly record struct TokenWindow(int Start, int Length)
{
    /// <summary>Index one past the window's last content token.</summary>
    public int End => Start + Length;
}

/// <summary>
/// A record too long for the model, split into overlapping windows that each fit it. Every window repeats the
/// record's leading and trailing special tokens (e.g. <c>&lt;cls&gt;</c> and <c>&lt;eos&gt;</c>) around its slice of
/// content tokens, so each window is a well-formed model input.
/// </summary>
public sealed class ChunkedRecord
{
    internal ChunkedRecord(int[] ids, int leading, int trailing, IReadOnlyList<TokenWindow> windows)
    {
        Leading = leading;
        Trailing = trailing;
        TotalLength = ids.Length;
        Windows = windows;
        var windowIds = new int[windows.Count][];
        for (int w = 0; w < windows.Count; w++)
        {
            var window = windows[w];
            var row = new int[leading + window.Length + trailing];
            ids.AsSpan(0, leading).CopyTo(row);
            ids.AsSpan(leading + window.Start, window.Length).CopyTo(row.AsSpan(leading));
            ids.AsSpan(ids.Length - trailing, trailing).CopyTo(row.AsSpan(leading + window.Length));
            windowIds[w] = row;
        }
        WindowIds = windowIds;
    }

    /// <summary>Special tokens before the content (0 or 1 for the tokenizers of this project).</summary>
    public int Leading { get; }

    /// <summary>Special tokens after the content.</summary>
    public int Trailing { get; }

    /// <summary>Tokens of the whole record, special tokens included.</summary>
    public int TotalLength { get; }

    /// <summary>Content tokens of the whole record.</summary>
    public int ContentLength => TotalLength - Leading - Trailing;

    /// <summary>The windows over the content tokens, in order; together they cover every content token.</summary>
    public IReadOnlyList<TokenWindow> Windows { get; }

    /// <summary>The model input of each window: the leading special tokens, the window's content tokens, the trailing ones.</summary>
    public IReadOnlyList<int[]> WindowIds { get; }

    /// <summary>Whether the record needed no split (one window holding the whole record).</summary>
    public bool IsWhole => Windows.Count == 1;
}

/// <summary>
/// The chunk strategy for records longer than a model accepts (as in the RNAErnie paper): the content tokens are cut
/// into overlapping windows that fit the model, every window runs on its own, and the per-token outputs are merged
/// back into one output per record token by averaging the windows that cover it. Window-level outputs (sequence
/// logits) are aggregated into one record-level result.
/// <para>
/// A window sees only its own tokens, so a merged output equals the output of the whole record only for outputs that
/// do not depend on context outside the window; with attention across the sequence, tokens near a window's edge see
/// less context than they would unsplit. Overlaps give every token some windows in which it is away from the edge.
/// </para>
/// </summary>
public static class Chunking
{
    /// <summary>
    /// Plans windows of at most <paramref name="maxContent"/> tokens over <paramref name="contentLength"/> content
    /// tokens, each window starting <c>maxContent - overlap</c> tokens after the previous one; the last window is moved
    /// back so that it ends at the last token and is as long as the others (it then overlaps its predecessor by more).
    /// A record that fits is one window.
    /// </summary>
    /// <param name="contentLength">Content tokens of the record (at least 1).</param>
    /// <param name="maxContent">Most content tokens a window may hold (the model's limit less the special tokens).</param>
    /// <param name="overlap">Tokens shared by consecutive windows, 0 to <paramref name="maxContent"/> - 1.</param>
    public static IReadOnlyList<TokenWindow> Plan(int contentLength, int maxContent, int overlap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contentLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxContent, 1);
        if (overlap < 0 || overlap >= maxContent)
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap,
                $"The overlap must be at least 0 and less than the window's {maxContent} tokens.");
        }
        if (contentLength <= maxContent)
        {
            return [new TokenWindow(0, contentLength)];
        }
        int stride = maxContent - overlap;
        var windows = new List<TokenWindow>();
        for (int start = 0; ; start += stride)
        {
            if (start + maxContent >= contentLength)
            {
                windows.Add(new TokenWindow(contentLength - maxContent, maxContent));
                break;
            }
            windows.Add(new TokenWindow(start, maxContent));
        }
        return windows;
    }

    /// <summary>
    /// Splits one encoded record into windows that fit a model of <paramref name="maxTokens"/> tokens.
    /// </summary>
    /// <param name="ids">The record's token ids as the tokenizer encoded it, special tokens included, no padding.</param>
    /// <param name="leading">How many of the ids are special tokens before the content (repeated in every window).</param>
    /// <param name="trailing">How many are special tokens after the content (repeated in every window).</param>
    /// <param name="maxTokens">Most tokens the model accepts, special tokens included.</param>
    /// <param name="overlap">Content tokens shared by consecutive windows.</param>
    /// <exception cref="ArgumentException">The special tokens leave no room for content, or the record has no content.</exception>
    public static ChunkedRecord Split(int[] ids, int leading, int trailing, int maxTokens, int overlap)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfNegative(leading);
        ArgumentOutOfRangeException.ThrowIfNegative(trailing);
        int maxContent = maxTokens - leading - trailing;
        if (maxContent < 1)
        {
            throw new ArgumentException(
                $"A model of {maxTokens} tokens has no room for content next to {leading + trailing} special tokens.", nameof(maxTokens));
        }
        int content = ids.Length - leading - trailing;
        if (content < 1)
        {
            throw new ArgumentException($"The record has no content tokens ({ids.Length} tokens, {leading + trailing} of them special).", nameof(ids));
        }
        return new ChunkedRecord(ids, leading, trailing, Plan(content, maxContent, overlap));
    }

    /// <summary>
    /// Merges per-token outputs of the windows into one output per record token. Window w's output has the window's
    /// tokens along dimension 0 (<c>[Leading + Length_w + Trailing, ...]</c>, padding already removed); a content
    /// token's merged output is the mean over the windows that cover it, and a special token's is the mean over all
    /// windows of that special position. The result, <c>[TotalLength, ...]</c>, has the windows' dtype and device.
    /// </summary>
    public static Tensor MergeTokens(ChunkedRecord record, IReadOnlyList<Tensor> windowOutputs)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(windowOutputs);
        if (windowOutputs.Count != record.Windows.Count)
        {
            throw new ArgumentException($"{windowOutputs.Count} window outputs for {record.Windows.Count} windows.", nameof(windowOutputs));
        }
        var first = windowOutputs[0];
        long[] shape = (long[])first.shape.Clone();
        shape[0] = record.TotalLength;
        using var scope = NewDisposeScope();
        var sum = zeros(shape, first.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32, first.device);
        var counts = new float[record.TotalLength];
        int leading = record.Leading, trailing = record.Trailing;
        for (int w = 0; w < record.Windows.Count; w++)
        {
            var window = record.Windows[w];
            var output = windowOutputs[w].to_type(sum.dtype);
            long expected = leading + window.Length + trailing;
            if (output.shape[0] != expected)
            {
                throw new ArgumentException($"Window {w} has {output.shape[0]} token outputs; its tokens are {expected}.", nameof(windowOutputs));
            }
            if (leading > 0) sum.narrow(0, 0, leading).add_(output.narrow(0, 0, leading));
            sum.narrow(0, leading + window.Start, window.Length).add_(output.narrow(0, leading, window.Length));
            if (trailing > 0) sum.narrow(0, record.TotalLength - trailing, trailing).add_(output.narrow(0, leading + window.Length, trailing));
            for (int i = 0; i < leading; i++) counts[i]++;
            for (int i = 0; i < window.Length; i++) counts[leading + window.Start + i]++;
            for (int i = 0; i < trailing; i++) counts[record.TotalLength - trailing + i]++;
        }
        var countShape = new long[shape.Length];
        Array.Fill(countShape, 1L);
        countShape[0] = record.TotalLength;
        var divisor = tensor(counts, sum.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32, first.device).reshape(countShape);
        var merged = sum.div_(divisor).to_type(first.dtype);
        return merged.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The weight of each window in a record-level aggregate: its share of the record's content tokens, counting a token
    /// covered by several windows as a fraction to each, so that every content token weighs the same in the result.
    /// The weights sum to 1.
    /// </summary>
    public static double[] WindowWeights(ChunkedRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var cover = new int[record.ContentLength];
        foreach (var window in record.Windows)
        {
            for (int i = window.Start; i < window.End; i++) cover[i]++;
        }
        var weights = new double[record.Windows.Count];
        for (int w = 0; w < weights.Length; w++)
        {
            var window = record.Windows[w];
            double share = 0;
            for (int i = window.Start; i < window.End; i++) share += 1.0 / cover[i];
            weights[w] = share / record.ContentLength;
        }
        return weights;
    }

    /// <summary>
    /// Aggregates window-level values (logits or probabilities) <c>[windows, ...]</c> into record-level values <c>[...]</c>: their mean
    /// weighted by <see cref="WindowWeights"/>. One window gives its own logits.
    /// </summary>
    public static Tensor AggregateWindows(ChunkedRecord record, Tensor windowLogits)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(windowLogits);
        if (windowLogits.dim() < 1 || windowLogits.shape[0] != record.Windows.Count)
        {
            throw new ArgumentException(
                $"Window logits of shape [{string.Join(", ", windowLogits.shape)}] for {record.Windows.Count} windows.", nameof(windowLogits));
        }
        if (record.IsWhole) return windowLogits[0].clone();
        using var scope = NewDisposeScope();
        var weights = tensor(WindowWeights(record), ScalarType.Float64, windowLogits.device);
        var flat = windowLogits.to_type(ScalarType.Float64).reshape(record.Windows.Count, -1);
        var result = weights.matmul(flat).reshape(windowLogits.shape[1..]).to_type(windowLogits.dtype);
        return result.MoveToOuterDisposeScope();
    }
}
