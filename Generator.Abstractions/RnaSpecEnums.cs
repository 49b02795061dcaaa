namespace RnaLm.Specs;

// Enumerations for the spec fields whose JSON value is one of a fixed set of strings. The generator turns a member
// into its JSON spelling by snake-casing its name (GeluNew -> "gelu_new", InverseSqrtHeadSize -> "inverse_sqrt_head_size").

/// <summary><c>norm.kind</c>.</summary>
public enum RnaNormKind
{
    /// <summary><c>"layer_norm"</c>: LayerNorm with weight and bias.</summary>
    LayerNorm,

    /// <summary><c>"rms_norm"</c>: RMSNorm with a weight only.</summary>
    RmsNorm,
}

/// <summary><c>layer.kind</c>: the order of norms and residuals in a layer.</summary>
public enum RnaLayerKind
{
    /// <summary><c>"post_norm"</c>: BERT, a norm after each residual addition.</summary>
    PostNorm,

    /// <summary><c>"pre_norm"</c>: ESM pre-LN, residuals from the un-normalised input.</summary>
    PreNorm,

    /// <summary><c>"pre_norm_normed_residual"</c>: RiNALMo's pre-LN, the attention residual from the normed input.</summary>
    PreNormNormedResidual,
}

/// <summary><c>position.kind</c>.</summary>
public enum RnaPositionKind
{
    /// <summary><c>"learned"</c>: an absolute table of <c>dims.max_positions</c> rows, token t uses row t.</summary>
    Learned,

    /// <summary><c>"offset_learned"</c>: a learned table indexed padding-aware from <c>pad_token_id + offset + 1</c>.</summary>
    OffsetLearned,

    /// <summary><c>"sinusoidal"</c>: a computed fairseq-style table.</summary>
    Sinusoidal,

    /// <summary><c>"rotary"</c>: rotary embedding inside attention.</summary>
    Rotary,

    /// <summary><c>"none"</c>: no positional information.</summary>
    None,
}

/// <summary><c>attention.softmax</c>: the softmax kind.</summary>
public enum RnaSoftmax
{
    /// <summary><c>"keys"</c>: softmax over the keys (BERT).</summary>
    Keys,

    /// <summary><c>"queries"</c>: softmax over the queries (ncRNABert).</summary>
    Queries,
}

/// <summary><c>feed_forward.kind</c>.</summary>
public enum RnaFeedForwardKind
{
    /// <summary><c>"mlp"</c>: two dense layers with an activation between.</summary>
    Mlp,

    /// <summary><c>"gated"</c>: a gated linear unit.</summary>
    Gated,

    /// <summary><c>"fused_gated"</c>: a gated linear unit with one stored [2F, H] input projection.</summary>
    FusedGated,
}

/// <summary><c>feed_forward.gate</c> (gated kind).</summary>
public enum RnaGate
{
    /// <summary><c>"swish_beta"</c>: <c>u·sigmoid(β·u)</c> with a learnable β.</summary>
    SwishBeta,

    /// <summary><c>"activation"</c>: <c>hidden_act(u)</c>.</summary>
    Activation,
}

/// <summary><c>feed_forward.width</c> (gated kind).</summary>
public enum RnaFeedForwardWidth
{
    /// <summary><c>"intermediate"</c>: <c>intermediate_size</c>.</summary>
    Intermediate,

    /// <summary><c>"two_thirds"</c>: <c>int(2/3 · intermediate_size)</c>.</summary>
    TwoThirds,
}

/// <summary><c>pretraining_heads.&lt;key&gt;.kind</c>.</summary>
public enum RnaPretrainingHeadKind
{
    /// <summary><c>"contact_attention"</c>: a contact head over every layer's attention maps.</summary>
    ContactAttention,

    /// <summary><c>"token"</c>: a linear head per token, special tokens removed.</summary>
    Token,

    /// <summary><c>"sequence"</c>: a linear head on the pooler output.</summary>
    Sequence,

    /// <summary><c>"masked_lm"</c>: an MLM-style head with its own decoder.</summary>
    MaskedLm,
}

/// <summary><c>tokenizer.segmentation.kind</c>.</summary>
public enum RnaSegmentation
{
    /// <summary><c>"single"</c>: one token per letter.</summary>
    Single,

    /// <summary><c>"kmer"</c>: overlapping k-mers (<see cref="RnaSegmentationAttribute.K"/>).</summary>
    Kmer,

    /// <summary><c>"codon"</c>: non-overlapping triplets.</summary>
    Codon,
}


/// <summary>An activation: <c>feed_forward.activation</c>, <c>pooler.activation</c>, <c>attention.biases.pair_prior.activation</c>.</summary>
public enum RnaActivation
{
    /// <summary><c>"gelu"</c>.</summary>
    Gelu,

    /// <summary><c>"relu"</c>.</summary>
    Relu,

    /// <summary><c>"silu"</c>.</summary>
    Silu,

    /// <summary><c>"tanh"</c>.</summary>
    Tanh,

    /// <summary><c>"gelu_new"</c>: GELU with the tanh approximation.</summary>
    GeluNew,
}

/// <summary><c>heads.&lt;task&gt;.transform</c>: what runs between the head's input and its decoder.</summary>
public enum RnaHeadTransform
{
    /// <summary><c>"none"</c>: identity.</summary>
    None,

    /// <summary><c>"linear"</c>: dense, LayerNorm.</summary>
    Linear,

    /// <summary><c>"nonlinear"</c>: dense, activation, LayerNorm.</summary>
    Nonlinear,
}

/// <summary><c>mlm_head.transform_activation</c>: an activation, or the model's <c>hidden_act</c>.</summary>
public enum RnaMlmActivation
{
    /// <summary><c>"hidden_act"</c>: follow the model's <c>hidden_act</c>.</summary>
    HiddenAct,

    /// <summary><c>"gelu"</c>.</summary>
    Gelu,

    /// <summary><c>"relu"</c>.</summary>
    Relu,

    /// <summary><c>"silu"</c>.</summary>
    Silu,

    /// <summary><c>"tanh"</c>.</summary>
    Tanh,

    /// <summary><c>"gelu_new"</c>.</summary>
    GeluNew,
}

/// <summary><c>architecture</c>: the model class a variant's checkpoints hold.</summary>
public enum RnaArchitecture
{
    /// <summary><c>"masked_lm"</c>.</summary>
    MaskedLm,

    /// <summary><c>"secondary_structure"</c>: needs <see cref="RnaSecondaryStructureHeadAttribute"/>.</summary>
    SecondaryStructure,
}

/// <summary>The keyword values of fields that take a number or a keyword (use them with the <c>object</c>-typed properties).</summary>
public static class RnaSpec
{
    /// <summary><c>dims.vocab_size</c>: the vocabulary length.</summary>
    public const string FromTokenizer = "from_tokenizer";

    /// <summary><c>tokenizer.model_max_length</c>: what the position kind supports at <c>dims.max_positions</c>.</summary>
    public const string Positions = "positions";

    /// <summary><c>mlm_head.layer_norm_eps</c>: the model's <c>layer_norm_eps</c>.</summary>
    public const string LayerNormEps = "layer_norm_eps";

    /// <summary>Built-in alphabet <c>"rna-standard-28"</c>.</summary>
    public const string RnaStandard28 = "rna-standard-28";

    /// <summary>Built-in alphabet <c>"rna-legacy-26"</c>.</summary>
    public const string RnaLegacy26 = "rna-legacy-26";

    /// <summary>Built-in alphabet <c>"rna-streamline"</c>.</summary>
    public const string RnaStreamline = "rna-streamline";

    /// <summary>Built-in alphabet <c>"dna-streamline"</c> (A C G T N).</summary>
    public const string DnaStreamline = "dna-streamline";

    /// <summary><c>position.dim</c>: the whole head rotates.</summary>
    public const string HeadSize = "head_size";
}
