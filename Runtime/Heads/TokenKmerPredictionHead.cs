using System;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>
/// Token head for k-mer tokenizers that predicts one row per nucleotide (UTR-BERT's <c>TokenKMerHead</c>,
/// families-bert2.md §2.4; FAMILIES-BERT2.md "UTR-BERT token head"). Special tokens are removed as by the generic
/// token head, then the k-mer rows are unfolded: a sequence with n real k-mer rows gives n + k − 1 nucleotide rows,
/// row p being the mean of the k-mer rows j with <c>max(0, p−k+1) ≤ j ≤ min(p, n−1)</c> (every k-mer covering
/// nucleotide p). The result has <c>L' + k − 1</c> rows per sequence (L' = L without the special tokens); rows past
/// <c>n + k − 1</c> are zero. The optional transform and the decoder follow, so padded rows give
/// <c>decoder(transform(0))</c> (the decoder bias without a transform). Keys <c>&lt;name&gt;.decoder.*</c> (and
/// <c>&lt;name&gt;.transform.*</c>).
/// </summary>
/// <remarks>
/// The real k-mer rows of a sequence are its first n rows after special-token removal, n being the sum of the trimmed
/// attention mask (right padding). The reference computes prefix, window and suffix means separately; here one
/// batched matrix product with a 0/1 coverage matrix [B, L'+k−1, L'] sums the covering rows and a division by the
/// coverage count makes the means, which agrees with it to float rounding.
/// </remarks>
public sealed class TokenKmerPredictionHead : TokenFeatureHead
{
    private readonly int _nmers;

    /// <param name="hiddenSize">H.</param>
    /// <param name="numLabels">Outputs per nucleotide.</param>
    /// <param name="bosTokenId">&lt;cls&gt; id (removed), or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id (removed), or null.</param>
    /// <param name="nmers">k, the number of nucleotides per token.</param>
    /// <param name="transform">Optional transform, applied to the unfolded rows before the decoder.</param>
    /// <param name="name">Module name, the field name of the head in its parent.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nmers"/> is less than 1.</exception>
    public TokenKmerPredictionHead(long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId, int nmers,
        HeadTransform? transform = null, string name = "token_head")
        : base(name, hiddenSize, numLabels, bosTokenId, eosTokenId, transform)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nmers, 1);
        _nmers = nmers;
    }

    /// <summary>k, the number of nucleotides per token.</summary>
    public int Nmers => _nmers;

    /// <param name="hiddenStates">[B, L, H].</param>
    /// <param name="inputIds">[B, L].</param>
    /// <param name="attentionMask">[B, L].</param>
    /// <returns>[B, L' + k − 1, labels], one row per nucleotide (L' = L without the removed special tokens).</returns>
    /// <exception cref="ArgumentException">A sequence has no k-mer row (only special tokens or padding).</exception>
    public override Tensor forward(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (features, mask) = WithoutSpecialTokens(hiddenStates, inputIds, attentionMask); // [B, L', H], [B, L']
        var unfolded = Unfold(features, mask, _nmers);                                       // [B, L'+k-1, H]
        return Decode(Transform(unfolded)).MoveToOuterDisposeScope();                       // [B, L'+k-1, labels]
    }

    /// <summary>
    /// The unfolding alone: k-mer rows [B, L', H] with their mask [B, L'] to nucleotide rows [B, L' + k − 1, H]
    /// (see the class summary).
    /// </summary>
    /// <param name="kmerRows">[B, L', H] features, one row per k-mer; rows past the real ones are ignored.</param>
    /// <param name="mask">[B, L'], its sum per row is the number n of real k-mer rows.</param>
    /// <param name="nmers">k.</param>
    /// <exception cref="ArgumentException">A sequence has no k-mer row.</exception>
    public static Tensor Unfold(Tensor kmerRows, Tensor mask, int nmers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nmers, 1);
        using var scope = NewDisposeScope();
        long batch = kmerRows.shape[0], rows = kmerRows.shape[1];
        long outputs = rows + nmers - 1;
        var device = kmerRows.device;

        var counts = mask.to_type(ScalarType.Int64).sum(1);                                  // [B] n
        var empty = counts.eq(0).nonzero();
        if (empty.shape[0] > 0)
        {
            throw new ArgumentException(
                $"Sequence {empty[0, 0].item<long>()} of the batch has no k-mer token after removing special tokens and padding, so there is nothing to unfold into nucleotide rows.",
                nameof(mask));
        }

        var p = arange(outputs, ScalarType.Int64, device).view(1, outputs, 1);               // [1, P, 1]
        var j = arange(rows, ScalarType.Int64, device).view(1, 1, rows);                      // [1, 1, L']
        var covers = j.le(p).logical_and(j.ge(p - (nmers - 1)));                             // [1, P, L'] k-mer j covers nucleotide p
        var real = j.lt(counts.view(batch, 1, 1));                                            // [B, 1, L']
        var coverage = covers.logical_and(real).to_type(kmerRows.dtype);                      // [B, P, L']
        var sums = coverage.bmm(kmerRows);                                                    // [B, P, H]
        var denominators = coverage.sum(2, keepdim: true).clamp_min(1);                       // [B, P, 1]; rows past n+k-1 have no k-mer
        return sums.div(denominators).MoveToOuterDisposeScope();
    }
}
