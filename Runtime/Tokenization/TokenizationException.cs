using System;

namespace RnaLm.Tokenization;

/// <summary>
/// Text that the tokenizer's segmentation cannot cut: with codon segmentation (<see cref="TokenizerOptions.Codon"/>)
/// a stretch of sequence between special-token strings whose length is not a multiple of 3. The message states the
/// length and the rule; callers that know the record (a FASTA name, a batch position) can prefix it.
/// </summary>
public sealed class TokenizationException : FormatException
{
    /// <summary>Creates the exception for a stretch of <paramref name="chunkLength"/> characters starting at <paramref name="chunkStart"/>.</summary>
    /// <param name="chunkLength">Length of the stretch in characters (a surrogate pair counts once).</param>
    /// <param name="chunkStart">Index of its first character in the text (UTF-16 code units).</param>
    /// <param name="textLength">Length of the whole text (UTF-16 code units).</param>
    /// <param name="sequenceIndex">Position of the text in a batch, or null.</param>
    public TokenizationException(int chunkLength, int chunkStart, int textLength, int? sequenceIndex = null)
        : base(Describe(chunkLength, chunkStart, textLength, sequenceIndex))
    {
        ChunkLength = chunkLength;
        ChunkStart = chunkStart;
        TextLength = textLength;
        SequenceIndex = sequenceIndex;
    }

    /// <summary>Length in characters of the stretch that could not be cut into codons.</summary>
    public int ChunkLength { get; }

    /// <summary>Index of the first character of the stretch in the text.</summary>
    public int ChunkStart { get; }

    /// <summary>Length of the whole text; equal to <see cref="ChunkLength"/> when the text has no special tokens.</summary>
    public int TextLength { get; }

    /// <summary>Position of the text in the batch being encoded, or null for a single text.</summary>
    public int? SequenceIndex { get; }

    /// <summary>The same error located at position <paramref name="index"/> of a batch.</summary>
    internal TokenizationException InBatch(int index) => new(ChunkLength, ChunkStart, TextLength, index);

    private static string Describe(int chunkLength, int chunkStart, int textLength, int? sequenceIndex)
    {
        string where = chunkStart == 0 && chunkLength == textLength
            ? "the sequence"
            : $"the stretch between special tokens at character {chunkStart}";
        string batch = sequenceIndex is int index ? $"Text {index} of the batch: " : "";
        return $"{batch}{char.ToUpperInvariant(where[0])}{where[1..]} has length {chunkLength}, which is not a multiple of 3; " +
               "codon tokenization cuts every stretch of sequence between special tokens into non-overlapping triplets.";
    }
}
