using System;
using System.Collections.Generic;
using TorchSharp;

namespace RnaLm.Tokenization;

/// <summary>The encoding of one sequence (or pair of sequences).</summary>
public sealed class EncodedSequence
{
    private readonly Vocabulary _vocabulary;
    private string[]? _tokens;

    internal EncodedSequence(Vocabulary vocabulary, int[] inputIds, int[] attentionMask, int realLength, bool exceedsModelMaxLength)
    {
        _vocabulary = vocabulary;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        RealLength = realLength;
        ExceedsModelMaxLength = exceedsModelMaxLength;
    }

    /// <summary>Token ids, special tokens and padding included.</summary>
    public int[] InputIds { get; }

    /// <summary>1 for real tokens (special tokens included), 0 for padding.</summary>
    public int[] AttentionMask { get; }

    /// <summary>Number of positions, padding included (the length of <see cref="InputIds"/>).</summary>
    public int Length => InputIds.Length;

    /// <summary>Number of positions that are not padding.</summary>
    public int RealLength { get; }

    /// <summary>
    /// Whether the encoding (without padding) is longer than the tokenizer's model maximum length. Like Hugging Face,
    /// this is not an error when no truncation was requested, but the model may not accept the input.
    /// </summary>
    public bool ExceedsModelMaxLength { get; }

    /// <summary>The vocabulary token of every id (so unknown input characters appear as <c>&lt;unk&gt;</c>); built on first use.</summary>
    public IReadOnlyList<string> Tokens
    {
        get
        {
            if (_tokens is null)
            {
                var tokens = new string[InputIds.Length];
                for (int i = 0; i < tokens.Length; i++)
                {
                    tokens[i] = _vocabulary[InputIds[i]];
                }
                _tokens = tokens;
            }
            return _tokens;
        }
    }

    /// <summary>Creates int64 tensors of shape [1, L] for the ids and the attention mask.</summary>
    /// <param name="device">Target device; null means CPU.</param>
    public (torch.Tensor inputIds, torch.Tensor attentionMask) ToTensors(torch.Device? device = null) =>
        BatchEncoding.MakeTensors([InputIds], [AttentionMask], 1, InputIds.Length, device);
}

/// <summary>
/// The encoding of a batch: every row has the same length (<see cref="SequenceLength"/>), shorter rows are
/// right-padded with <c>&lt;pad&gt;</c> and attention mask 0.
/// </summary>
public sealed class BatchEncoding
{
    internal BatchEncoding(int[][] inputIds, int[][] attentionMask, int sequenceLength, int[] lengths, bool[] exceeds)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        SequenceLength = sequenceLength;
        Lengths = lengths;
        var exceeding = new List<int>();
        for (int i = 0; i < exceeds.Length; i++)
        {
            if (exceeds[i])
            {
                exceeding.Add(i);
            }
        }
        SequencesExceedingModelMaxLength = exceeding;
    }

    /// <summary>Token ids, one row per sequence, each of length <see cref="SequenceLength"/>.</summary>
    public int[][] InputIds { get; }

    /// <summary>Attention masks (1 = real token, 0 = padding), one row per sequence.</summary>
    public int[][] AttentionMask { get; }

    /// <summary>Number of sequences.</summary>
    public int BatchSize => InputIds.Length;

    /// <summary>Length of every row (the padded length).</summary>
    public int SequenceLength { get; }

    /// <summary>Number of real (non-padding) positions of each row.</summary>
    public IReadOnlyList<int> Lengths { get; }

    /// <summary>Indices of the rows whose unpadded length exceeds the tokenizer's model maximum length.</summary>
    public IReadOnlyList<int> SequencesExceedingModelMaxLength { get; }

    /// <summary>Whether any row is longer than the tokenizer's model maximum length (see <see cref="EncodedSequence.ExceedsModelMaxLength"/>).</summary>
    public bool ExceedsModelMaxLength => SequencesExceedingModelMaxLength.Count > 0;

    /// <summary>Creates int64 tensors of shape [<see cref="BatchSize"/>, <see cref="SequenceLength"/>] for the ids and the attention mask.</summary>
    /// <param name="device">Target device; null means CPU.</param>
    public (torch.Tensor inputIds, torch.Tensor attentionMask) ToTensors(torch.Device? device = null) =>
        MakeTensors(InputIds, AttentionMask, InputIds.Length, SequenceLength, device);

    internal static (torch.Tensor inputIds, torch.Tensor attentionMask) MakeTensors(
        int[][] ids, int[][] mask, int batch, int length, torch.Device? device)
    {
        long total = (long)batch * length;
        if (total > Array.MaxLength)
        {
            throw new InvalidOperationException($"A batch of {batch} x {length} tokens is too large for one tensor.");
        }
        var flatIds = new long[total];
        var flatMask = new long[total];
        for (int b = 0; b < batch; b++)
        {
            if (ids[b].Length != length || mask[b].Length != length)
            {
                throw new InvalidOperationException(
                    $"Row {b} has {ids[b].Length} ids and {mask[b].Length} mask values; expected {length}.");
            }
            int offset = b * length;
            for (int i = 0; i < length; i++)
            {
                flatIds[offset + i] = ids[b][i];
                flatMask[offset + i] = mask[b][i];
            }
        }
        long[] shape = [batch, length];
        var target = device ?? torch.CPU;
        var inputIds = torch.tensor(flatIds, shape, torch.int64, target);
        try
        {
            var attentionMask = torch.tensor(flatMask, shape, torch.int64, target);
            return (inputIds, attentionMask);
        }
        catch
        {
            inputIds.Dispose();
            throw;
        }
    }
}
