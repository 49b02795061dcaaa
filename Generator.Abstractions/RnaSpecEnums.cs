namespace RnaLm.Specs;

// Enumerations for the spec fields whose JSON value is one of a fixed set of strings. The generator turns a member
// into its JSON spelling by snake-casing its name (GeluNew -> "gelu_new", InverseSqrtHeadSize -> "inverse_sqrt_head_size").

/// <summary><c>norm.placement</c>.</summary>
public enum RnaNormPlacement
{
    /// <summary><c>"post"</c>: LayerNorm after each residual addition (BERT).</summary>
    Post,

    /// <summary><c>"pre"</c>: LayerNorm before attention and feed-forward.</summary>
    Pre,
}

/// <summary><c>embeddings.position.kind</c>.</summary>
public enum RnaPositionKind
{
    /// <summary><c>"learned"</c>: an absolute table of <c>max</c> rows.</summary>
    Learned,

    /// <summary><c>"sinusoidal"</c>: a computed fairseq-style table.</summary>
    Sinusoidal,

    /// <summary><c>"rotary"</c>: rotary embedding inside attention.</summary>
    Rotary,

    /// <summary><c>"none"</c>: no positional information.</summary>
    None,
}

/// <summary><c>attention.softmax</c>.</summary>
public enum RnaSoftmax
{
    /// <summary><c>"keys"</c>: softmax over the keys (BERT).</summary>
    Keys,

    /// <summary><c>"queries"</c>: softmax over the queries (ncRNABert).</summary>
    Queries,
}

/// <summary><c>attention.scale</c>.</summary>
public enum RnaAttentionScale
{
    /// <summary><c>"inverse_sqrt_head_size"</c>: scores scaled by d^-1/2.</summary>
    InverseSqrtHeadSize,
}

/// <summary>An activation: <c>feed_forward.activation</c>, <c>pooler.activation</c>, <c>attention.pair_prior.activation</c>.</summary>
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

    /// <summary><c>tokenizer.model_max_length</c>: <c>embeddings.position.max</c>.</summary>
    public const string Positions = "positions";

    /// <summary><c>mlm_head.layer_norm_eps</c>: the model's <c>layer_norm_eps</c>.</summary>
    public const string LayerNormEps = "layer_norm_eps";

    /// <summary>Built-in alphabet <c>"rna-standard-28"</c>.</summary>
    public const string RnaStandard28 = "rna-standard-28";

    /// <summary>Built-in alphabet <c>"rna-legacy-26"</c>.</summary>
    public const string RnaLegacy26 = "rna-legacy-26";

    /// <summary>Built-in alphabet <c>"rna-streamline"</c>.</summary>
    public const string RnaStreamline = "rna-streamline";
}
