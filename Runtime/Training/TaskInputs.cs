using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Inference;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>What to do with a record longer than the model reads in one pass.</summary>
public enum LongRecordPolicy
{
    /// <summary>
    /// Split it into overlapping windows (<see cref="Chunking"/>), run each window, and combine them: a sequence task
    /// averages the window logits (weighted by each window's share of the record's tokens), a token task averages the
    /// windows covering each nucleotide, a contact task the windows holding both nucleotides of a pair.
    /// </summary>
    Chunk,

    /// <summary>Keep the first nucleotides that fit.</summary>
    Truncate,
}

/// <summary>How records become model inputs: the long-record policy and the overlap of consecutive windows.</summary>
/// <param name="Policy">Chunk or truncate records longer than the model.</param>
/// <param name="Overlap">Content tokens shared by consecutive windows (at most half a window, see <see cref="WindowOverlap"/>).</param>
public sealed record ChunkOptions(LongRecordPolicy Policy = LongRecordPolicy.Chunk, int Overlap = 128)
{
    public static ChunkOptions Default { get; } = new();

    /// <summary>
    /// The overlap used for windows of <paramref name="maxContent"/> tokens: <paramref name="overlap"/>, but at most half
    /// a window, so that consecutive windows always advance by at least half a window.
    /// </summary>
    public static int WindowOverlap(int overlap, int maxContent) => Math.Clamp(overlap, 0, maxContent / 2);
}

/// <summary>
/// STACK's choice for one record: the K most probable RNA types (indices into the tokenizer's
/// <see cref="TokenizerOptions.RnaTypes"/>) and their weights σ₁…σ_K (the predicted probabilities renormalised to sum to 1).
/// </summary>
public sealed record StackChoice(int[] Types, float[] Weights)
{
    /// <summary>The top <paramref name="k"/> of type probabilities (ties: lower index first), renormalised.</summary>
    public static StackChoice TopK(IReadOnlyList<float> probabilities, int k)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (k < 1 || k > probabilities.Count) throw new ArgumentOutOfRangeException(nameof(k), k, $"K must be 1 to {probabilities.Count}.");
        var top = Enumerable.Range(0, probabilities.Count).OrderByDescending(i => probabilities[i]).ThenBy(i => i).Take(k).ToArray();
        double sum = top.Sum(i => (double)probabilities[i]);
        var weights = top.Select(i => sum > 0 ? (float)(probabilities[i] / sum) : 1f / k).ToArray();
        return new StackChoice(top, weights);
    }
}

/// <summary>
/// The model rows of a batch of records for a fine-tuning task: each record's token ids split into windows when it is
/// longer than the model (<see cref="Chunking"/>, shared with <c>embed</c>) or truncated, and for STACK each window
/// repeated once per chosen type with <c>&lt;indicator&gt; &lt;type&gt;</c> before <c>&lt;eos&gt;</c>. <see cref="Logits"/> runs a
/// model on the rows and returns one output per record: the σ-weighted sum over the types of each window (the soft
/// vote), then the windows combined (<see cref="Chunking.AggregateWindows"/>, <see cref="Chunking.MergeTokens"/>,
/// <see cref="PairChunking.Merge"/>).
/// </summary>
public sealed class TaskInputs
{
    /// <summary>One record: its token ids, the special tokens around the content, its windows over the content tokens.</summary>
    private sealed record RecordPlan(int[] Ids, int Leading, int Trailing, ChunkedRecord Content, StackChoice? Stack)
    {
        public IReadOnlyList<TokenWindow> Windows => Content.Windows;

        /// <summary>Content tokens the record's output covers (fewer than the record's when truncated).</summary>
        public int Covered => Content.TotalLength;
    }

    private readonly RecordPlan[] _records;
    private readonly int[][] _rows;
    private readonly int _padId;
    private readonly int _indicatorId;
    private readonly IReadOnlyList<int>? _typeIds;

    private TaskInputs(RecordPlan[] records, bool[] isLong, RnaTokenizer tokenizer)
    {
        _records = records;
        Long = isLong;
        _padId = tokenizer.Vocabulary.PadId ?? 0;
        _indicatorId = tokenizer.IndicatorId ?? -1;
        _typeIds = tokenizer.TypeIds;
        var rows = new List<int[]>();
        foreach (var plan in records)
        {
            foreach (var window in plan.Windows)
            {
                if (plan.Stack is null)
                {
                    rows.Add(Row(plan, window, null));
                    continue;
                }
                foreach (int type in plan.Stack.Types) rows.Add(Row(plan, window, _typeIds![type]));
            }
        }
        _rows = rows.ToArray();
    }

    /// <summary><c>leading + window content + [indicator, extra] + trailing</c>, or without the pair when <paramref name="extra"/> is null.</summary>
    private int[] Row(RecordPlan plan, TokenWindow window, int? extra)
    {
        int added = extra is null ? 0 : 2;
        var row = new int[plan.Leading + window.Length + added + plan.Trailing];
        plan.Ids.AsSpan(0, plan.Leading).CopyTo(row);
        plan.Ids.AsSpan(plan.Leading + window.Start, window.Length).CopyTo(row.AsSpan(plan.Leading));
        if (extra is int token)
        {
            row[plan.Leading + window.Length] = _indicatorId;
            row[plan.Leading + window.Length + 1] = token;
        }
        plan.Ids.AsSpan(plan.Ids.Length - plan.Trailing, plan.Trailing).CopyTo(row.AsSpan(plan.Leading + window.Length + added));
        return row;
    }

    /// <summary>Content tokens (nucleotides, for 1-mer tokenizers) each record's output covers.</summary>
    public IReadOnlyList<int> Lengths => _records.Select(r => r.Covered).ToArray();

    /// <summary>Whether each record was longer than the model (split or truncated).</summary>
    public IReadOnlyList<bool> Long { get; }

    /// <summary>Model rows (each record window, times each STACK type).</summary>
    public int RowCount => _rows.Length;

    /// <summary>Real tokens over all rows.</summary>
    public long Tokens => _rows.Sum(r => (long)r.Length);

    /// <summary>The model rows (token ids without padding).</summary>
    public IReadOnlyList<int[]> Rows => _rows;

    /// <summary>Windows of each record over its content tokens.</summary>
    public IReadOnlyList<IReadOnlyList<TokenWindow>> Windows => _records.Select(r => r.Windows).ToArray();

    /// <summary>The most tokens one model pass reads: the position table and the tokenizer's limit.</summary>
    public static int MaxTokens(IModelConfig config, RnaTokenizer tokenizer) =>
        Math.Min(config.MaxPositionEmbeddings, tokenizer.Options.ModelMaxLength ?? int.MaxValue);

    /// <summary>
    /// Encodes <paramref name="sequences"/> (special tokens added, no truncation) and plans each record's windows.
    /// With <paramref name="stack"/>, every window of record i runs once per type of <c>stack[i]</c>, and two tokens of
    /// each window are taken by the type.
    /// </summary>
    /// <exception cref="ArgumentException">The model leaves no room for content, a record has none, or STACK without type tokens.</exception>
    public static TaskInputs Create(RnaTokenizer tokenizer, IModelConfig config, IReadOnlyList<string> sequences, ChunkOptions chunking,
        IReadOnlyList<StackChoice>? stack = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(chunking);
        if (stack is not null && stack.Count != sequences.Count) throw new ArgumentException($"{stack.Count} STACK choices for {sequences.Count} records.", nameof(stack));
        if (stack is not null && tokenizer.Options.RnaTypes is null) throw new ArgumentException("STACK needs a tokenizer with RNA type tokens.", nameof(stack));
        int leading = tokenizer.Options.AddBos ? 1 : 0, trailing = tokenizer.Options.AddEos ? 1 : 0;
        int maxContent = MaxContent(tokenizer, config, stack is not null);
        var plans = new RecordPlan[sequences.Count];
        var isLong = new bool[sequences.Count];
        for (int i = 0; i < sequences.Count; i++)
        {
            int[] ids = tokenizer.Encode(sequences[i]).InputIds;
            int content = ids.Length - leading - trailing;
            if (content < 1) throw new ArgumentException($"Record {i} has no sequence tokens.", nameof(sequences));
            isLong[i] = content > maxContent;
            int covered = isLong[i] && chunking.Policy == LongRecordPolicy.Truncate ? maxContent : content;
            var contentIds = ids.AsSpan(leading, covered).ToArray();
            var chunked = Chunking.Split(contentIds, 0, 0, maxContent, ChunkOptions.WindowOverlap(chunking.Overlap, maxContent));
            plans[i] = new RecordPlan(ids, leading, trailing, chunked, stack?[i]);
        }
        return new TaskInputs(plans, isLong, tokenizer);
    }

    /// <summary>Content tokens one window holds: the model's tokens less the special tokens (and the two type tokens for STACK).</summary>
    /// <exception cref="ArgumentException">Nothing is left.</exception>
    public static int MaxContent(RnaTokenizer tokenizer, IModelConfig config, bool stack)
    {
        int specials = (tokenizer.Options.AddBos ? 1 : 0) + (tokenizer.Options.AddEos ? 1 : 0) + (stack ? 2 : 0);
        int maxContent = MaxTokens(config, tokenizer) - specials;
        if (maxContent < 1) throw new ArgumentException($"The model's {MaxTokens(config, tokenizer)} tokens leave no room for a sequence next to {specials} special tokens.");
        return maxContent;
    }

    /// <summary>
    /// The windows of each record as type-prediction rows <c>&lt;cls&gt; window &lt;indicator&gt; &lt;mask&gt; &lt;eos&gt;</c>, with the
    /// record and the window's weight (<see cref="Chunking.WindowWeights"/>) of each row.
    /// </summary>
    public IEnumerable<(int Record, double Weight, int[] Row)> TypePredictionRows(int maskId)
    {
        for (int r = 0; r < _records.Length; r++)
        {
            var plan = _records[r];
            var weights = Chunking.WindowWeights(plan.Content);
            for (int w = 0; w < plan.Windows.Count; w++) yield return (r, weights[w], Row(plan, plan.Windows[w], maskId));
        }
    }

    /// <summary>Padded <c>[rows, L]</c> ids and attention mask.</summary>
    public (Tensor Ids, Tensor Mask) ToTensors(Device device) => Pad(_rows, _padId, device);

    /// <summary>Right-padded <c>[rows, L]</c> ids and attention mask of unpadded rows.</summary>
    public static (Tensor Ids, Tensor Mask) Pad(IReadOnlyList<int[]> rows, int padId, Device device)
    {
        int length = rows.Max(r => r.Length);
        var ids = new int[rows.Count][];
        var mask = new int[rows.Count][];
        for (int i = 0; i < rows.Count; i++)
        {
            ids[i] = new int[length];
            mask[i] = new int[length];
            Array.Fill(ids[i], padId);
            rows[i].CopyTo(ids[i], 0);
            Array.Fill(mask[i], 1, 0, rows[i].Length);
        }
        return FineTuning.ToTensors(ids, mask, device);
    }

    /// <summary>
    /// Record outputs of <paramref name="model"/>: sequence <c>[B, C]</c>; token <c>[B, N, C]</c>; contact <c>[B, N, N]</c>
    /// (the one logit per pair), with N the longest record's covered content tokens and zeros beyond each record. For a
    /// contact task <paramref name="covered"/> is <c>[B, N, N]</c>: the pairs some window held (every pair of a record
    /// that fits); null otherwise.
    /// </summary>
    public Tensor Logits(IRnaPredictionModel model, Device device, out Tensor? covered)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        var (ids, mask) = ToTensors(device);
        var logits = model.Forward(ids, mask).Logits;
        var result = Combine(model.Task, logits, out var coveredPairs);
        covered = coveredPairs?.MoveToOuterDisposeScope();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Combines the head's logits of <see cref="Rows"/> (in row order) into record outputs; see <see cref="Logits"/>.</summary>
    public Tensor Combine(PredictionTask task, Tensor rowLogits, out Tensor? covered)
    {
        ArgumentNullException.ThrowIfNull(rowLogits);
        if (rowLogits.shape[0] != _rows.Length) throw new ArgumentException($"{rowLogits.shape[0]} row outputs for {_rows.Length} rows.", nameof(rowLogits));
        covered = null;
        int n = _records.Max(r => r.Covered);
        bool simple = _records.All(r => r.Windows.Count == 1 && r.Stack is null);
        if (simple)
        {
            // One row per record: the head's padded layout already is the record layout.
            switch (task)
            {
                case PredictionTask.Sequence:
                    return rowLogits.alias();
                case PredictionTask.Token:
                    return rowLogits.narrow(1, 0, n);
                default:
                    covered = ones(_records.Length, n, n, ScalarType.Bool, rowLogits.device);
                    for (int r = 0; r < _records.Length; r++)
                    {
                        int length = _records[r].Covered;
                        if (length < n) covered[r].fill_(false).narrow(0, 0, length).narrow(1, 0, length).fill_(true);
                    }
                    return rowLogits.narrow(1, 0, n).narrow(2, 0, n).squeeze(-1);
            }
        }

        var outputs = new List<Tensor>(_records.Length);
        var coverage = new List<Tensor>(_records.Length);
        int row = 0;
        foreach (var plan in _records)
        {
            var windowOutputs = new List<Tensor>(plan.Windows.Count);
            foreach (var window in plan.Windows)
            {
                int length = window.Length;
                int types = plan.Stack?.Types.Length ?? 1;
                Tensor? vote = null;
                for (int k = 0; k < types; k++, row++)
                {
                    var output = task switch
                    {
                        PredictionTask.Sequence => rowLogits[row],
                        PredictionTask.Token => rowLogits[row].narrow(0, 0, length),
                        _ => rowLogits[row].narrow(0, 0, length).narrow(1, 0, length).squeeze(-1),
                    };
                    var weighted = plan.Stack is null ? output : output * plan.Stack.Weights[k];
                    vote = vote is null ? weighted : vote + weighted;
                }
                windowOutputs.Add(vote!);
            }
            int content = plan.Covered;
            switch (task)
            {
                case PredictionTask.Sequence:
                    outputs.Add(Chunking.AggregateWindows(plan.Content, stack(windowOutputs)));
                    break;
                case PredictionTask.Token:
                    outputs.Add(nn.functional.pad(Chunking.MergeTokens(plan.Content, windowOutputs), new long[] { 0, 0, 0, n - content }));
                    break;
                default:
                {
                    var merged = PairChunking.Merge(content, plan.Windows, windowOutputs);
                    outputs.Add(nn.functional.pad(merged.Values, new long[] { 0, n - content, 0, n - content }));
                    var mask = zeros(n, n, ScalarType.Bool, rowLogits.device);
                    mask.narrow(0, 0, content).narrow(1, 0, content).copy_(merged.Covered);
                    coverage.Add(mask);
                    break;
                }
            }
        }
        if (task == PredictionTask.Contact) covered = stack(coverage);
        return stack(outputs);
    }
}
