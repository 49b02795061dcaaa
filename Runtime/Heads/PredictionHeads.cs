using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>Sequence prediction head: <c>decoder(transform(pooler_output))</c>. Keys <c>sequence_head.transform.*</c> (when present), <c>sequence_head.decoder.*</c>.</summary>
public sealed class SequencePredictionHead : nn.Module<Tensor, Tensor>
{
    private readonly HeadTransform? transform;
    private readonly Linear decoder;

    /// <param name="hiddenSize">H.</param>
    /// <param name="numLabels">Outputs per sequence.</param>
    /// <param name="transform">Optional transform before the decoder (<see cref="HeadTransform.Create"/>).</param>
    public SequencePredictionHead(long hiddenSize, long numLabels, HeadTransform? transform = null) : base("sequence_head")
    {
        this.transform = transform;
        decoder = nn.Linear(hiddenSize, numLabels);
        RegisterComponents();
    }

    /// <param name="pooled">[B, H] pooler output.</param>
    /// <returns>[B, labels].</returns>
    public override Tensor forward(Tensor pooled)
    {
        using var scope = NewDisposeScope();
        var features = transform is null ? pooled : transform.call(pooled);
        return decoder.call(features).MoveToOuterDisposeScope();
    }
}

/// <summary>Token prediction head: special tokens removed, then <c>decoder</c>. Keys <c>token_head.decoder.*</c>.</summary>
public sealed class TokenPredictionHead : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly HeadTransform? transform;
    private readonly Linear decoder;
    private readonly long? _bos;
    private readonly long? _eos;

    /// <param name="hiddenSize">H.</param>
    /// <param name="numLabels">Outputs per token.</param>
    /// <param name="bosTokenId">&lt;cls&gt; id (removed), or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id (removed), or null.</param>
    /// <param name="transform">Optional transform before the decoder.</param>
    public TokenPredictionHead(long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId, HeadTransform? transform = null) : base("token_head")
    {
        this.transform = transform;
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
        if (transform is not null) features = transform.call(features);
        return decoder.call(features).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Contact prediction head: special tokens removed, outer elementwise product <c>z[b,i,j] = x[b,i] ⊙ x[b,j]</c>,
/// <c>decoder</c>, then symmetrised <c>(z + zᵀ)/2</c>; pair entries of padding are zero. Keys <c>contact_head.decoder.*</c>.
/// </summary>
public sealed class ContactPredictionHead : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly HeadTransform? transform;
    private readonly Linear decoder;
    private readonly long? _bos;
    private readonly long? _eos;

    /// <param name="hiddenSize">H.</param>
    /// <param name="numLabels">Outputs per token pair.</param>
    /// <param name="bosTokenId">&lt;cls&gt; id (removed), or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id (removed), or null.</param>
    /// <param name="transform">Optional transform applied to the token features before the outer product.</param>
    public ContactPredictionHead(long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId, HeadTransform? transform = null) : base("contact_head")
    {
        this.transform = transform;
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
        if (transform is not null) x = transform.call(x);
        var outer = x.unsqueeze(2) * x.unsqueeze(1);                                              // [B, L', L', H]
        var logits = decoder.call(outer);                                                         // [B, L', L', C]
        logits = (logits + logits.transpose(1, 2)) / 2;
        var pairMask = (mask.unsqueeze(2) * mask.unsqueeze(1)).to_type(logits.dtype).unsqueeze(-1); // [B, L', L', 1]
        return (logits * pairMask).MoveToOuterDisposeScope();
    }
}
