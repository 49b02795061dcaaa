using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>Sequence prediction head: <c>decoder(pooler_output)</c>. Keys <c>sequence_head.decoder.*</c>.</summary>
public sealed class SequencePredictionHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear decoder;

    public SequencePredictionHead(long hiddenSize, long numLabels) : base("sequence_head")
    {
        decoder = nn.Linear(hiddenSize, numLabels);
        RegisterComponents();
    }

    /// <param name="pooled">[B, H] pooler output.</param>
    /// <returns>[B, labels].</returns>
    public override Tensor forward(Tensor pooled)
    {
        using var scope = NewDisposeScope();
        return decoder.call(pooled).MoveToOuterDisposeScope();
    }
}

/// <summary>Token prediction head: special tokens removed, then <c>decoder</c>. Keys <c>token_head.decoder.*</c>.</summary>
public sealed class TokenPredictionHead : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear decoder;
    private readonly long? _bos;
    private readonly long? _eos;

    public TokenPredictionHead(long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId) : base("token_head")
    {
        decoder = nn.Linear(hiddenSize, numLabels);
        _bos = bosTokenId;
        _eos = eosTokenId;
        RegisterComponents();
    }

    /// <param name="hiddenStates">[B, L, H].</param>
    /// <param name="inputIds">[B, L].</param>
    /// <param name="attentionMask">[B, L].</param>
    /// <returns>[B, L', labels].</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (features, _) = SpecialTokens.Remove(hiddenStates, inputIds, attentionMask, _bos, _eos); // [B, L', H]
        return decoder.call(features).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Contact prediction head: special tokens removed, outer elementwise product <c>z[b,i,j] = x[b,i] ⊙ x[b,j]</c>,
/// <c>decoder</c>, then symmetrised <c>(z + zᵀ)/2</c>; pair entries of padding are zero. Keys <c>contact_head.decoder.*</c>.
/// </summary>
public sealed class ContactPredictionHead : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear decoder;
    private readonly long? _bos;
    private readonly long? _eos;

    public ContactPredictionHead(long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId) : base("contact_head")
    {
        decoder = nn.Linear(hiddenSize, numLabels);
        _bos = bosTokenId;
        _eos = eosTokenId;
        RegisterComponents();
    }

    /// <returns>[B, L', L', labels].</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (x, mask) = SpecialTokens.Remove(hiddenStates, inputIds, attentionMask, _bos, _eos); // [B, L', H]
        var outer = x.unsqueeze(2) * x.unsqueeze(1);                                              // [B, L', L', H]
        var logits = decoder.call(outer);                                                         // [B, L', L', C]
        logits = (logits + logits.transpose(1, 2)) / 2;
        var pairMask = (mask.unsqueeze(2) * mask.unsqueeze(1)).to_type(logits.dtype).unsqueeze(-1); // [B, L', L', 1]
        return (logits * pairMask).MoveToOuterDisposeScope();
    }
}
