using RnaLm.Generator.Kinds;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

// The validated, value-equatable model of one *.model.json file (spec language version 2).
// The parser (SpecParser) produces it; the emitters consume it. Nothing here refers to Roslyn
// syntax, symbols or compilations, so every pipeline step after parsing can be cached.
// JSON names are given in the comments; docs/spec.md is the user-facing reference.

/// <summary>One model family and its variants, as declared in one spec file.</summary>
/// <param name="Name">"name": the family id and MultiMolecule <c>model_type</c>, e.g. "splicebert".</param>
/// <param name="TypeName">"type_name": the C# prefix of every generated type, e.g. "SpliceBert".</param>
/// <param name="Namespace">"namespace": namespace of the generated types (default "RnaLm.Models").</param>
/// <param name="Description">"description": one line for docs, XML comments and <c>rnalm models</c>.</param>
/// <param name="SourceFile">File name of the spec (no directory), written into generated XML docs.</param>
/// <param name="Norm">Slot "norm" (fields eps, final).</param>
/// <param name="Layer">Slot "layer": the order of norms and residuals.</param>
/// <param name="Position">Slot "position".</param>
/// <param name="FeedForward">Slot "feed_forward".</param>
internal sealed record ModelSpec(
    string Name,
    string TypeName,
    string Namespace,
    string Description,
    string SourceFile,
    DimsSpec Dims,
    KindSpec Norm,
    KindSpec Layer,
    KindSpec Position,
    EmbeddingsSpec Embeddings,
    AttentionSpec Attention,
    KindSpec FeedForward,
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

    /// <summary>"pretraining_heads": the extra heads of the pre-training model, in spec order.</summary>
    public EquatableArray<PretrainingHeadSpec> PretrainingHeads { get; init; } = EquatableArray<PretrainingHeadSpec>.Empty;

    public NormKind NormKind => (NormKind)Norm.Kind;

    public LayerKind LayerKind => (LayerKind)Layer.Kind;

    public PositionKind PositionKind => (PositionKind)Position.Kind;

    public FeedForwardKind FeedForwardKind => (FeedForwardKind)FeedForward.Kind;

    /// <summary>The key of the final norm under <c>encoder.</c>, or null without one.</summary>
    public string? FinalNorm => Norm.GetOrNull("final") as string;

    /// <summary>Some bias carries each layer's logits to the next (and can return them as <c>attention_biases</c>).</summary>
    public bool CarriesLogits
    {
        get
        {
            foreach (var b in Attention.Biases)
            {
                if (((AttentionBiasKind)b.Kind).CarriesLogits) return true;
            }
            return false;
        }
    }

    public KindSpec? Bias(string kind)
    {
        foreach (var b in Attention.Biases)
        {
            if (b.KindName == kind) return b;
        }
        return null;
    }
}

/// <summary>One entry of "pretraining_heads": the module name and its kind.</summary>
internal sealed record PretrainingHeadSpec(string Key, KindSpec Head)
{
    public PretrainingHeadKind Kind => (PretrainingHeadKind)Head.Kind;

    public bool Optional => Head.Get<bool>("optional");

    public string? Output => Head.GetOrNull("output") as string;

    /// <summary>The config property of an optional head's settings ("structure_head" → StructureHead).</summary>
    public string Property => FieldDef.Pascal(Key);
}

/// <summary>
/// "heads.sequence" / "heads.token" / "heads.contact": MultiMolecule's HeadConfig. <paramref name="Transform"/> is "none"
/// (identity, the default), "linear" (dense, LayerNorm) or "nonlinear" (dense, activation, LayerNorm) before the decoder.
/// </summary>
/// <param name="UnfoldKmers">Token heads of k-mer vocabularies: one output per nucleotide, the mean over the k-mers covering it.</param>
internal sealed record TaskHeadSpec(string Transform, string TransformActivation, double LayerNormEps, bool UnfoldKmers = false);

/// <summary>
/// "heads.secondary_structure": reads head <paramref name="AttentionHead"/> of the last layer's carried logits; a stem of
/// two <paramref name="KernelSize"/>² convolutions, <paramref name="Blocks"/> dilated residual blocks of
/// <paramref name="Channels"/> channels, a projection, and the constrained post-processing.
/// </summary>
internal sealed record SecondaryStructureSpec(int AttentionHead, int Channels, int Blocks, int KernelSize);

/// <summary>"dims": the configuration defaults of the network size.</summary>
/// <param name="VocabSize">"vocab_size": a number, or "from_tokenizer" (null here; the tokenizer's vocabulary length is used).</param>
/// <param name="MaxPositions">"max_positions": default <c>max_position_embeddings</c> (table rows for learned positions).</param>
internal sealed record DimsSpec(int Hidden, int Layers, int Heads, int Intermediate, int? VocabSize, int MaxPositions = 0)
{
    public int HeadSize => Hidden / Heads;
}

/// <summary>
/// A boolean that is either fixed by the spec (<paramref name="ConfigKey"/> null) or read from a <c>config.json</c> key
/// with a default (then each variant may set its own default, and checkpoints choose).
/// </summary>
internal sealed record SwitchSpec(bool Default, string? ConfigKey)
{
    public static readonly SwitchSpec Off = new(false, null);

    public bool IsConfig => ConfigKey is not null;

    /// <summary>The config property, e.g. "EmbedNorm" for "embed_norm".</summary>
    public string Property => FieldDef.Pascal(ConfigKey ?? "");

    /// <summary>Whether the generated code needs the block at all (fixed on, or configurable).</summary>
    public bool MayBeOn => IsConfig || Default;
}

/// <summary>"embeddings.token_type": the token-type table; <paramref name="Added"/> false = stored but never added.</summary>
internal sealed record TokenTypeSpec(int Size, bool Added);

/// <summary>"embeddings": what the embedding stage adds besides the word embeddings and the position kind.</summary>
/// <param name="TokenType">null when the model has no token-type table.</param>
/// <param name="LayerNorm">"layer_norm": a norm (+ dropout) after summing the embeddings.</param>
/// <param name="TokenDropout">"token_dropout": ESM's rescaling of the embeddings by the share of &lt;mask&gt; tokens.</param>
/// <param name="ZeroPad">"zero_pad": multiply embeddings by the attention mask so pad rows are exactly zero.</param>
internal sealed record EmbeddingsSpec(TokenTypeSpec? TokenType, SwitchSpec LayerNorm, SwitchSpec TokenDropout, bool ZeroPad);

/// <summary>"attention".</summary>
/// <param name="QkvBias">"qkv_bias": Q/K/V projections have a bias.</param>
/// <param name="OutputBias">"output_bias": the output projection has a bias.</param>
/// <param name="Softmax">Slot "attention.softmax".</param>
/// <param name="Biases">Slot "attention.biases": the bias kinds, in spec order.</param>
internal sealed record AttentionSpec(bool QkvBias, bool OutputBias, KindSpec Softmax, EquatableArray<KindSpec> Biases);

/// <summary>"pooler": activation(dense(h[:,0])). <paramref name="InCheckpoint"/>: published checkpoints hold its weights.</summary>
internal sealed record PoolerSpec(bool InCheckpoint, string Activation);

/// <summary>"mlm_head".</summary>
/// <param name="TransformActivation">"transform_activation": an activation name, or "hidden_act" to follow the config.</param>
/// <param name="LayerNormEps">"layer_norm_eps": a number, or null ("layer_norm_eps" in JSON) to follow the config.</param>
/// <param name="Tied">"tied": the default of <c>tie_word_embeddings</c>: the decoder weight is the word-embedding matrix.</param>
/// <param name="Bias">"bias": an output bias <c>lm_head.bias</c> (also <c>lm_head.decoder.bias</c>).</param>
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
/// <param name="Alphabet">"alphabet": a built-in name or "custom".</param>
/// <param name="Vocabulary">The full vocabulary in id order: the six special tokens, then the (k-mer) alphabet.</param>
/// <param name="Segmentation">Slot "tokenizer.segmentation".</param>
/// <param name="AddBos">"add_bos": prepend &lt;cls&gt;.</param>
/// <param name="AddEos">"add_eos": append &lt;eos&gt;.</param>
/// <param name="UpperCase">"upper_case": upper-case text chunks before lookup.</param>
/// <param name="TToU">"t_to_u": replace T with U (after upper-casing).</param>
/// <param name="UToT">"u_to_t": replace U with T (after upper-casing; DNA vocabularies).</param>
/// <param name="ModelMaxLength">"model_max_length": a number, "positions" (what the position kind supports), or null (unbounded).</param>
/// <param name="RnaTypes">"rna_types": the indicator and type tokens appended to the vocabulary, or null.</param>
internal sealed record TokenizerSpec(
    string Alphabet,
    EquatableArray<string> Vocabulary,
    KindSpec Segmentation,
    bool AddBos,
    bool AddEos,
    bool UpperCase,
    bool TToU,
    bool UToT,
    MaxLengthSpec ModelMaxLength,
    RnaTypesSpec? RnaTypes)
{
    public SegmentationKind SegmentationKind => (SegmentationKind)Segmentation.Kind;

    /// <summary>k of the vocabulary's k-mers.</summary>
    public int Nmers => SegmentationKind.Nmers(Segmentation);

    public bool Codon => SegmentationKind.Codon;
}

/// <summary>
/// "tokenizer.rna_types": coarse RNA types as extra special tokens, the last ones of the vocabulary: the indicator token,
/// then one token per type (<c>&lt;name&gt;</c>), in the order written.
/// </summary>
internal sealed record RnaTypesSpec(string Indicator, EquatableArray<string> Types);

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

    /// <summary>The length in tokens: <paramref name="positions"/> is what "positions" means for the spec's position kind.</summary>
    public int? Resolve(int? positions) => Kind switch
    {
        MaxLengthKind.Fixed => Value,
        MaxLengthKind.FromPositions => positions,
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
/// <param name="HiddenAct">Resolved default hidden_act.</param>
/// <param name="Tokenizer">Resolved tokenizer (vocabulary included).</param>
/// <param name="PairwiseAlpha">Resolved pair-prior alpha (0 when the family has no pair prior).</param>
internal sealed record VariantSpec(
    string Name,
    string MemberName,
    DimsSpec Dims,
    double LayerNormEps,
    string HiddenAct,
    string MlmTransformActivation,
    double? MlmLayerNormEps,
    TokenizerSpec Tokenizer,
    double PairwiseAlpha)
{
    /// <summary>Resolved default max_position_embeddings.</summary>
    public int MaxPositions => Dims.MaxPositions;

    /// <summary>"output_attention_biases": the variant's config returns the carried attention logits by default.</summary>
    public bool OutputAttentionBiases { get; init; }

    /// <summary>"architecture": the model class its checkpoints hold: null = masked LM, "secondary_structure" = the SS model.</summary>
    public string? Architecture { get; init; }

    /// <summary>The longest sequence in tokens (special tokens included) the tokenizer allows, or null when unbounded.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Defaults of the config-bound switches (<see cref="SwitchSpec"/>), by config key.</summary>
    public EquatableArray<KindValue> Switches { get; init; } = EquatableArray<KindValue>.Empty;

    /// <summary>A per-variant boolean by key (a switch's config key, or an optional pre-training head's key).</summary>
    public bool SwitchValue(string key, bool fallback)
    {
        foreach (var s in Switches)
        {
            if (s.Name == key) return (bool)s.Value!;
        }
        return fallback;
    }

    public bool Switch(SwitchSpec spec)
    {
        if (spec.ConfigKey is null) return spec.Default;
        foreach (var s in Switches)
        {
            if (s.Name == spec.ConfigKey) return (bool)s.Value!;
        }
        return spec.Default;
    }
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
