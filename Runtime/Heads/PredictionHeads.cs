using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>
/// Sequence prediction head: <c>decoder(transform(pooler_output))</c> (models.md §1.7). Keys <c>&lt;name&gt;.transform.*</c>
/// (when present) and <c>&lt;name&gt;.decoder.*</c>; the name is <c>sequence_head</c> for the generic head, and other
/// heads of the same form reuse the class: UTR-LM's <c>mfe_head</c> (families-esm.md §2.3) and RNABERT's <c>sa_head</c>
/// (Linear H → 2 on the pooler output, families-bert2.md §3.4).
/// </summary>
public sealed class SequencePredictionHead : nn.Module<Tensor, Tensor>
{
    private readonly HeadTransform? transform;
    private readonly Linear decoder;

    /// <param name="hiddenSize">H.</param>
    /// <param name="numLabels">Outputs per sequence.</param>
    /// <param name="transform">Optional transform before the decoder (<see cref="HeadTransform.Create"/>).</param>
    /// <param name="name">Module name, the field name of the head in its parent.</param>
    public SequencePredictionHead(long hiddenSize, long numLabels, HeadTransform? transform = null, string name = "sequence_head") : base(name)
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

/// <summary>
/// Base of the heads that read token features: removes &lt;cls&gt; and &lt;eos&gt; (<see cref="SpecialTokens.Remove"/>),
/// applies the optional transform, and owns the <c>decoder</c>.
/// </summary>
public abstract class TokenFeatureHead : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly HeadTransform? transform;
    private readonly Linear decoder;
    private readonly long? _bos;
    private readonly long? _eos;

    /// <param name="name">Module name, the field name of the head in its parent (<c>token_head</c>, <c>contact_head</c>, …).</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLabels">Outputs per token or token pair.</param>
    /// <param name="bosTokenId">&lt;cls&gt; id (removed), or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id (removed), or null.</param>
    /// <param name="transform">Optional transform applied to the token features.</param>
    protected TokenFeatureHead(string name, long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId, HeadTransform? transform)
        : base(name)
    {
        this.transform = transform;
        decoder = nn.Linear(hiddenSize, numLabels);
        _bos = bosTokenId;
        _eos = eosTokenId;
        RegisterComponents();
    }

    /// <summary>Token features [B, L', H] without special tokens (transformed) and their mask [B, L'].</summary>
    protected (Tensor Features, Tensor Mask) Features(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (features, mask) = WithoutSpecialTokens(hiddenStates, inputIds, attentionMask);
        features = Transform(features);
        return (features.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>Token features [B, L', H] without special tokens (not transformed) and their mask [B, L'].</summary>
    protected (Tensor Features, Tensor Mask) WithoutSpecialTokens(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask) =>
        SpecialTokens.Remove(hiddenStates, inputIds, attentionMask, _bos, _eos);

    /// <summary>The optional transform (identity when the head has none).</summary>
    protected Tensor Transform(Tensor features) => transform is null ? features : transform.call(features);

    /// <summary>The decoder Linear(H → labels).</summary>
    protected Tensor Decode(Tensor features) => decoder.call(features);
}

/// <summary>
/// Token prediction head: special tokens removed, then <c>decoder</c> (models.md §1.7). Keys <c>&lt;name&gt;.decoder.*</c>
/// (and <c>&lt;name&gt;.transform.*</c>); the name is <c>token_head</c> for the generic head, <c>structure_head</c> for
/// UTR-LM's 3-label structure head (families-esm.md §2.3).
/// </summary>
public sealed class TokenPredictionHead : TokenFeatureHead
{
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLabels">Outputs per token.</param>
    /// <param name="bosTokenId">&lt;cls&gt; id (removed), or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id (removed), or null.</param>
    /// <param name="transform">Optional transform applied to the token features.</param>
    /// <param name="name">Module name, the field name of the head in its parent.</param>
    public TokenPredictionHead(long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId, HeadTransform? transform = null,
        string name = "token_head")
        : base(name, hiddenSize, numLabels, bosTokenId, eosTokenId, transform)
    {
    }

    /// <param name="hiddenStates">[B, L, H].</param>
    /// <param name="inputIds">[B, L].</param>
    /// <param name="attentionMask">[B, L].</param>
    /// <returns>[B, L', labels].</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (features, _) = Features(hiddenStates, inputIds, attentionMask); // [B, L', H]
        return Decode(features).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Contact prediction head: special tokens removed, outer elementwise product <c>z[b,i,j] = x[b,i] ⊙ x[b,j]</c>,
/// <c>decoder</c>, then symmetrised <c>(z + zᵀ)/2</c>; pair entries of padding are zero. Keys <c>contact_head.decoder.*</c>.
/// </summary>
public sealed class ContactPredictionHead : TokenFeatureHead
{
    /// <inheritdoc cref="TokenFeatureHead(string, long, long, long?, long?, HeadTransform?)"/>
    public ContactPredictionHead(long hiddenSize, long numLabels, long? bosTokenId, long? eosTokenId, HeadTransform? transform = null)
        : base("contact_head", hiddenSize, numLabels, bosTokenId, eosTokenId, transform)
    {
    }

    /// <returns>[B, L', L', labels].</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (x, mask) = Features(hiddenStates, inputIds, attentionMask);                         // [B, L', H]
        var outer = x.unsqueeze(2) * x.unsqueeze(1);                                              // [B, L', L', H]
        var logits = Decode(outer);                                                               // [B, L', L', C]
        logits = (logits + logits.transpose(1, 2)) / 2;
        var pairMask = (mask.unsqueeze(2) * mask.unsqueeze(1)).to_type(logits.dtype).unsqueeze(-1); // [B, L', L', 1]
        return (logits * pairMask).MoveToOuterDisposeScope();
    }
}
