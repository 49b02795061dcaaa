using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

// The validated, value-equatable model of one *.model.json file (spec language version 1).
// The parser (SpecParser) produces it; the emitters consume it. Nothing here refers to Roslyn
// syntax, symbols or compilations, so every pipeline step after parsing can be cached.
// JSON names are given in the comments; docs/spec.md is the user-facing reference.

/// <summary>One model family and its variants, as declared in one spec file.</summary>
/// <param name="Name">"name": the family id and MultiMolecule <c>model_type</c>, e.g. "splicebert".</param>
/// <param name="TypeName">"type_name": the C# prefix of every generated type, e.g. "SpliceBert".</param>
/// <param name="Namespace">"namespace": namespace of the generated types (default "RnaLm.Models").</param>
/// <param name="Description">"description": one line for docs, XML comments and <c>rnalm models</c>.</param>
/// <param name="SourceFile">File name of the spec (no directory), written into generated XML docs.</param>
internal sealed record ModelSpec(
    string Name,
    string TypeName,
    string Namespace,
    string Description,
    string SourceFile,
    DimsSpec Dims,
    NormSpec Norm,
    EmbeddingsSpec Embeddings,
    AttentionSpec Attention,
    FeedForwardSpec FeedForward,
    PoolerSpec Pooler,
    MlmHeadSpec MlmHead,
    TokenizerSpec Tokenizer,
    CheckpointSpec Checkpoint,
    EquatableArray<VariantSpec> Variants)
{
    /// <summary>"heads.secondary_structure": ERNIE-RNA's SS head on the carried attention logits; null when absent.</summary>
    public SecondaryStructureSpec? SecondaryStructure { get; init; }

    /// <summary>"heads.sequence": a sequence-prediction head on the pooler output; null when not declared.</summary>
    public TaskHeadSpec? SequenceHead { get; init; }

    /// <summary>"heads.token": a token-prediction head (special tokens removed); null when not declared.</summary>
    public TaskHeadSpec? TokenHead { get; init; }

    /// <summary>"heads.contact": a contact-prediction head (outer product, symmetrised); null when not declared.</summary>
    public TaskHeadSpec? ContactHead { get; init; }
}

/// <summary>
/// "heads.sequence" / "heads.token" / "heads.contact": MultiMolecule's HeadConfig. <paramref name="Transform"/> is "none"
/// (identity, the default), "linear" (dense, LayerNorm) or "nonlinear" (dense, activation, LayerNorm) before the decoder.
/// </summary>
internal sealed record TaskHeadSpec(string Transform, string TransformActivation, double LayerNormEps);

/// <summary>
/// "heads.secondary_structure": reads head <paramref name="AttentionHead"/> of the last layer's carried logits; a stem of
/// two <paramref name="KernelSize"/>² convolutions, <paramref name="Blocks"/> dilated residual blocks of
/// <paramref name="Channels"/> channels, a projection, and the constrained post-processing.
/// </summary>
internal sealed record SecondaryStructureSpec(int AttentionHead, int Channels, int Blocks, int KernelSize);

/// <summary>"dims": the configuration defaults of the network size.</summary>
/// <param name="VocabSize">"vocab_size": a number, or "from_tokenizer" (null here; the tokenizer's vocabulary length is used).</param>
internal sealed record DimsSpec(int Hidden, int Layers, int Heads, int Intermediate, int? VocabSize)
{
    public int HeadSize => Hidden / Heads;
}

internal enum NormPlacement
{
    /// <summary>"post": LayerNorm after each residual addition (BERT).</summary>
    Post,
    /// <summary>"pre": LayerNorm before attention and feed-forward (ESM / fairseq pre-LN).</summary>
    Pre,
}

/// <summary>"norm": LayerNorm placement and epsilon.</summary>
/// <param name="Eps">"eps": default <c>layer_norm_eps</c> (the checkpoint's config.json overrides it).</param>
/// <param name="Final">"final": a LayerNorm after the last layer (<c>encoder.layer_norm</c>).</param>
internal sealed record NormSpec(NormPlacement Placement, double Eps, bool Final);

internal enum PositionKind
{
    /// <summary>"learned": an absolute table <c>embeddings.position_embeddings</c> [max, H], positions 0..L-1.</summary>
    Learned,
    /// <summary>"sinusoidal": fairseq-style computed table, padding-aware, offset; never stored.</summary>
    Sinusoidal,
    /// <summary>"rotary": no input positions; rotary embedding inside attention.</summary>
    Rotary,
    /// <summary>"none": no positional information at all.</summary>
    None,
}

/// <summary>"embeddings.position".</summary>
/// <param name="Max">"max": <c>max_position_embeddings</c> default (learned: table rows; sinusoidal: initial rows).</param>
/// <param name="Sinusoidal">"sinusoidal": present when Kind is Sinusoidal.</param>
/// <param name="Rotary">"rotary": present when Kind is Rotary.</param>
internal sealed record PositionSpec(PositionKind Kind, int Max, SinusoidalSpec? Sinusoidal, RotarySpec? Rotary);

/// <summary>"embeddings.position.sinusoidal": padding_aware (pad tokens get row offset), offset (added to the running count).</summary>
internal sealed record SinusoidalSpec(bool PaddingAware, int Offset);

/// <summary>"embeddings.position.rotary".</summary>
/// <param name="Dim">"dim": number of features of each head that rotate (even, ≤ head size).</param>
/// <param name="Base">"base": frequency base (10000).</param>
/// <param name="Interleaved">"interleaved": rotate pairs (2k, 2k+1) rather than halves.</param>
/// <param name="StoredFrequencies">"stored_frequencies": the checkpoint holds <c>attention.self.rotary_embeddings.freqs</c>.</param>
internal sealed record RotarySpec(int Dim, double Base, bool Interleaved, bool StoredFrequencies);

/// <summary>"embeddings.token_type": the token-type table; <paramref name="Added"/> false = stored but never added.</summary>
internal sealed record TokenTypeSpec(int Size, bool Added);

/// <summary>"embeddings".</summary>
/// <param name="TokenType">null when the model has no token-type table.</param>
/// <param name="LayerNorm">"layer_norm": LayerNorm (+ dropout) after summing the embeddings.</param>
/// <param name="ZeroPad">"zero_pad": multiply embeddings by the attention mask so pad rows are exactly zero.</param>
internal sealed record EmbeddingsSpec(PositionSpec Position, TokenTypeSpec? TokenType, bool LayerNorm, bool ZeroPad);

internal enum SoftmaxAxis
{
    /// <summary>"keys": softmax over the last axis with an additive key-padding mask (BERT).</summary>
    Keys,
    /// <summary>"queries": softmax over the query axis, mask on query rows, post-softmax pair mask (ncRNABert).</summary>
    Queries,
}

/// <summary>"attention".</summary>
/// <param name="QkvBias">"qkv_bias": Q/K/V projections have a bias.</param>
/// <param name="OutputBias">"output_bias": the output projection has a bias.</param>
/// <param name="Scale">"scale": "inverse_sqrt_head_size" (the only value in version 1) → d^-1/2.</param>
/// <param name="PairPrior">"pair_prior": ERNIE-RNA base-pairing prior; null when absent.</param>
internal sealed record AttentionSpec(bool QkvBias, bool OutputBias, string Scale, SoftmaxAxis Softmax, PairPriorSpec? PairPrior);

/// <summary>"attention.pair_prior": pair map AU/UA 2, CG/GC 3, GU/UG alpha; MLP 1 → heads/2 → heads; logits carried.</summary>
internal sealed record PairPriorSpec(double Alpha, string Activation, bool ExposeBiases);

/// <summary>"feed_forward": the default <c>hidden_act</c> and whether the two dense layers have biases.</summary>
internal sealed record FeedForwardSpec(string Activation, bool Bias);

/// <summary>"pooler": tanh(dense(h[:,0])). <paramref name="InCheckpoint"/>: published checkpoints hold its weights.</summary>
internal sealed record PoolerSpec(bool InCheckpoint, string Activation);

/// <summary>"mlm_head".</summary>
/// <param name="TransformActivation">"transform_activation": an activation name, or "hidden_act" to follow the config.</param>
/// <param name="LayerNormEps">"layer_norm_eps": a number, or null ("layer_norm_eps" in JSON) to follow the config.</param>
/// <param name="Tied">"tied": decoder weight is the word-embedding matrix.</param>
/// <param name="Bias">"bias": a separate output bias <c>lm_head.bias</c>.</param>
internal sealed record MlmHeadSpec(string TransformActivation, double? LayerNormEps, bool Tied, bool Bias)
{
    /// <summary>
    /// "new_config_activation": the <c>lm_head.transform_act</c> a newly created config writes (an activation, or
    /// "hidden_act" for the config's default <c>hidden_act</c>); null when a new config has <c>lm_head: null</c>.
    /// <see cref="TransformActivation"/> stays what a config whose <c>lm_head</c> is null uses (older files).
    /// </summary>
    public string? NewConfigActivation { get; init; }
}

/// <summary>"tokenizer".</summary>
/// <param name="Alphabet">"alphabet": "rna-standard-28", "rna-legacy-26", "rna-streamline" or a custom list (then "custom").</param>
/// <param name="Vocabulary">The full vocabulary in id order: the six special tokens, then the (k-mer) alphabet.</param>
/// <param name="Nmers">"nmers": k of overlapping k-mers (1 = single nucleotides).</param>
/// <param name="AddBos">"add_bos": prepend &lt;cls&gt;.</param>
/// <param name="AddEos">"add_eos": append &lt;eos&gt;.</param>
/// <param name="UpperCase">"upper_case": upper-case text chunks before lookup.</param>
/// <param name="TToU">"t_to_u": replace T with U (after upper-casing).</param>
/// <param name="ModelMaxLength">"model_max_length": a number, "positions" (= max_position_embeddings), or null (unbounded).</param>
internal sealed record TokenizerSpec(
    string Alphabet,
    EquatableArray<string> Vocabulary,
    int Nmers,
    bool AddBos,
    bool AddEos,
    bool UpperCase,
    bool TToU,
    MaxLengthSpec ModelMaxLength);

internal enum MaxLengthKind
{
    Unbounded,
    Fixed,
    FromPositions,
}

internal sealed record MaxLengthSpec(MaxLengthKind Kind, int Value)
{
    public static readonly MaxLengthSpec Unbounded = new(MaxLengthKind.Unbounded, 0);
    public static readonly MaxLengthSpec FromPositions = new(MaxLengthKind.FromPositions, 0);

    public int? Resolve(int maxPositions) => Kind switch
    {
        MaxLengthKind.Fixed => Value,
        MaxLengthKind.FromPositions => maxPositions,
        _ => null,
    };
}

/// <summary>"checkpoint": how state-dict keys are named.</summary>
/// <param name="Prefix">"prefix": backbone key prefix without the dot ("model", "ncrnabert"); also the backbone field name.</param>
/// <param name="LegacyPrefixes">"legacy_prefixes": older backbone prefixes that load as <paramref name="Prefix"/>.</param>
/// <param name="Aliases">"aliases": regex renames applied to legacy keys (after prefix normalisation).</param>
/// <param name="Tied">"tied": keys filled from another key when the file omits them (same tensor).</param>
/// <param name="Ignore">"ignore": keys that may appear in files but are not parameters (non-persistent buffers).</param>
internal sealed record CheckpointSpec(
    string Prefix,
    EquatableArray<string> LegacyPrefixes,
    EquatableArray<AliasSpec> Aliases,
    EquatableArray<TiedSpec> Tied,
    EquatableArray<string> Ignore);

internal sealed record AliasSpec(string Pattern, string Replacement);

internal sealed record TiedSpec(string Key, string Source);

/// <summary>A named variant: the family with some configuration values overridden ("variants": { name: overrides }).</summary>
/// <param name="Name">The variant's model name, e.g. "splicebert.510".</param>
/// <param name="MemberName">A C# identifier for it, e.g. "SpliceBert510".</param>
/// <param name="Dims">Resolved dimensions (VocabSize always resolved).</param>
/// <param name="LayerNormEps">Resolved default layer_norm_eps.</param>
/// <param name="MaxPositions">Resolved default max_position_embeddings.</param>
/// <param name="HiddenAct">Resolved default hidden_act.</param>
/// <param name="Tokenizer">Resolved tokenizer (vocabulary included).</param>
/// <param name="PairwiseAlpha">Resolved pair-prior alpha (0 when the family has no pair prior).</param>
internal sealed record VariantSpec(
    string Name,
    string MemberName,
    DimsSpec Dims,
    double LayerNormEps,
    int MaxPositions,
    string HiddenAct,
    string MlmTransformActivation,
    double? MlmLayerNormEps,
    TokenizerSpec Tokenizer,
    double PairwiseAlpha)
{
    /// <summary>"output_attention_biases": the variant's config returns the carried attention logits by default.</summary>
    public bool OutputAttentionBiases { get; init; }

    /// <summary>"architecture": the model class its checkpoints hold: null = masked LM, "secondary_structure" = the SS model.</summary>
    public string? Architecture { get; init; }
}

/// <summary>The parse result of one spec (file or attribute spec): the model (null when it has errors) and every diagnostic.</summary>
internal sealed record ParsedSpec(string FilePath, ModelSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics)
{
    private string? _key;
    private string? _display;

    /// <summary>Identifies the spec (<see cref="SpecDocument.Key"/>); the file path unless set.</summary>
    public string Key
    {
        get => _key ?? FilePath;
        init => _key = value;
    }

    /// <summary>How messages about other specs name this one (<see cref="SpecDocument.Display"/>); the file path unless set.</summary>
    public string Display
    {
        get => _display ?? FilePath;
        init => _display = value;
    }

    /// <summary>The model, variant and type names this file declares, with their locations, for the
    /// cross-spec check <see cref="SpecValidation.CheckDuplicateNames"/> (filled even when Spec is null).</summary>
    public EquatableArray<DeclaredName> DeclaredNames { get; init; }

    // Equality ignores where the names are (only which names, in order), so a whitespace-only edit
    // leaves a clean spec's parse result Unchanged and its outputs cached. Cost: after such an edit
    // an RNA4004 for this file keeps its old position until the next real change.
    public bool Equals(ParsedSpec? other) =>
        other is not null && FilePath == other.FilePath && Key == other.Key && Display == other.Display && Equals(Spec, other.Spec)
        && Diagnostics.Equals(other.Diagnostics) && DeclaredName.SameNames(DeclaredNames, other.DeclaredNames);

    public override int GetHashCode() => (Key, Spec, Diagnostics).GetHashCode();
}
