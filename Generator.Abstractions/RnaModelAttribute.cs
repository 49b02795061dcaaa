using System;

namespace RnaLm.Specs;

/// <summary>
/// Declares a model family on a <c>partial</c> class: the attribute form of a <c>*.model.json</c> spec (docs/spec.md,
/// "Attribute specs"). Every field of the JSON spec has an attribute property; a property that is not set is a field
/// that is not written, so the JSON defaults apply. The other <c>Rna*</c> attributes on the same class declaration
/// give the sections (<see cref="RnaDimsAttribute"/>, <see cref="RnaNormAttribute"/>, ...). The generator emits the
/// same code as for the equivalent JSON spec, and adds <c>ModelName</c> and <c>Family</c> to the class.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaModelAttribute : Attribute
{
    /// <param name="name"><c>name</c>: the family id and <c>model_type</c>, e.g. <c>"tinyrna"</c>.</param>
    public RnaModelAttribute(string name) => Name = name;

    /// <summary><c>name</c>.</summary>
    public string Name { get; }

    /// <summary><c>type_name</c>: prefix of the generated types; the class name when not set.</summary>
    public string? TypeName { get; set; }

    /// <summary><c>namespace</c> of the generated types (default <c>"RnaLm.Models"</c>, as in JSON).</summary>
    public string? Namespace { get; set; }

    /// <summary><c>description</c>.</summary>
    public string? Description { get; set; }

    /// <summary><c>extends</c>: the model name of the spec (JSON or attribute) this one inherits from.</summary>
    public string? Extends { get; set; }

    /// <summary><c>spec_version</c> (2 when not set).</summary>
    public int SpecVersion { get; set; }

    /// <summary><c>output_attention_biases</c>.</summary>
    public bool OutputAttentionBiases { get; set; }

    /// <summary><c>architecture</c>.</summary>
    public RnaArchitecture Architecture { get; set; }
}

/// <summary><c>dims</c>: the network size.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaDimsAttribute : Attribute
{
    /// <summary><c>dims.hidden</c>.</summary>
    public int Hidden { get; set; }

    /// <summary><c>dims.layers</c>.</summary>
    public int Layers { get; set; }

    /// <summary><c>dims.heads</c>.</summary>
    public int Heads { get; set; }

    /// <summary><c>dims.intermediate</c>.</summary>
    public int Intermediate { get; set; }

    /// <summary><c>dims.vocab_size</c>: an <see cref="int"/> or <see cref="RnaSpec.FromTokenizer"/>.</summary>
    public object? VocabSize { get; set; }

    /// <summary><c>dims.max_positions</c>.</summary>
    public int MaxPositions { get; set; }
}

/// <summary><c>norm</c>: the norm kind and epsilon.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaNormAttribute : Attribute
{
    /// <summary><c>norm.kind</c>.</summary>
    public RnaNormKind Kind { get; set; }

    /// <summary><c>norm.eps</c>.</summary>
    public double Eps { get; set; }

    /// <summary><c>norm.final</c>: the key of the final norm under <c>encoder.</c> (e.g. <c>"layer_norm"</c>), or null.</summary>
    public string? Final { get; set; }
}

/// <summary><c>layer</c>: the order of norms and residuals.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaLayerAttribute : Attribute
{
    /// <summary><c>layer.kind</c>.</summary>
    public RnaLayerKind Kind { get; set; }
}

/// <summary><c>embeddings</c> (the token types are <see cref="RnaTokenTypeAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaEmbeddingsAttribute : Attribute
{
    /// <summary><c>embeddings.layer_norm.default</c>: the embedding norm (fixed unless <see cref="LayerNormConfig"/> is set).</summary>
    public bool LayerNorm { get; set; }

    /// <summary><c>embeddings.layer_norm.config</c>: the config.json key that switches the embedding norm.</summary>
    public string? LayerNormConfig { get; set; }

    /// <summary><c>embeddings.token_dropout.default</c>: ESM token dropout (fixed unless <see cref="TokenDropoutConfig"/> is set).</summary>
    public bool TokenDropout { get; set; }

    /// <summary><c>embeddings.token_dropout.config</c>: the config.json key that switches token dropout.</summary>
    public string? TokenDropoutConfig { get; set; }

    /// <summary><c>embeddings.zero_pad</c>.</summary>
    public bool ZeroPad { get; set; }
}

/// <summary><c>position</c>: the position kind and its fields.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaPositionAttribute : Attribute
{
    /// <summary><c>position.kind</c>.</summary>
    public RnaPositionKind Kind { get; set; }

    /// <summary><c>position.offset</c> (offset_learned, sinusoidal).</summary>
    public int Offset { get; set; }

    /// <summary><c>position.padding_aware</c> (sinusoidal).</summary>
    public bool PaddingAware { get; set; }

    /// <summary><c>position.dim</c> (rotary): an <see cref="int"/> or <see cref="RnaSpec.HeadSize"/>.</summary>
    public object? Dim { get; set; }

    /// <summary><c>position.base</c> (rotary).</summary>
    public double Base { get; set; }

    /// <summary><c>position.interleaved</c> (rotary).</summary>
    public bool Interleaved { get; set; }

    /// <summary><c>position.stored_frequencies</c> (rotary).</summary>
    public bool StoredFrequencies { get; set; }
}

/// <summary><c>embeddings.token_type</c>; <c>Enabled = false</c> writes <c>null</c> (no table, e.g. to drop an inherited one).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaTokenTypeAttribute : Attribute
{
    /// <summary><c>embeddings.token_type.size</c>.</summary>
    public int Size { get; set; }

    /// <summary><c>embeddings.token_type.added</c>.</summary>
    public bool Added { get; set; }

    /// <summary>false: <c>"token_type": null</c>; no other property may be set then.</summary>
    public bool Enabled { get; set; }
}

/// <summary><c>attention</c> (the pair prior is <see cref="RnaPairPriorAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaAttentionAttribute : Attribute
{
    /// <summary><c>attention.qkv_bias</c>.</summary>
    public bool QkvBias { get; set; }

    /// <summary><c>attention.output_bias</c>.</summary>
    public bool OutputBias { get; set; }

    /// <summary><c>attention.softmax</c>.</summary>
    public RnaSoftmax Softmax { get; set; }
}

/// <summary><c>attention.biases.pair_prior</c>; <c>Enabled = false</c> writes <c>null</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaPairPriorAttribute : Attribute
{
    /// <summary><c>attention.biases.pair_prior.alpha</c>.</summary>
    public double Alpha { get; set; }

    /// <summary><c>attention.biases.pair_prior.activation</c>.</summary>
    public RnaActivation Activation { get; set; }

    /// <summary><c>Enabled = false</c> writes <c>null</c> for <c>attention.biases.pair_prior</c>.</summary>
    public bool Enabled { get; set; }
}

/// <summary><c>feed_forward</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaFeedForwardAttribute : Attribute
{
    /// <summary><c>feed_forward.kind</c>.</summary>
    public RnaFeedForwardKind Kind { get; set; }

    /// <summary><c>feed_forward.activation</c>.</summary>
    public RnaActivation Activation { get; set; }

    /// <summary><c>feed_forward.gate</c> (gated).</summary>
    public RnaGate Gate { get; set; }

    /// <summary><c>feed_forward.width</c> (gated).</summary>
    public RnaFeedForwardWidth Width { get; set; }

    /// <summary><c>feed_forward.bias</c>.</summary>
    public bool Bias { get; set; }
}

/// <summary><c>pooler</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaPoolerAttribute : Attribute
{
    /// <summary><c>pooler.in_checkpoint</c>.</summary>
    public bool InCheckpoint { get; set; }

    /// <summary><c>pooler.activation</c>.</summary>
    public RnaActivation Activation { get; set; }
}

/// <summary><c>mlm_head</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaMlmHeadAttribute : Attribute
{
    /// <summary><c>mlm_head.transform_activation</c>.</summary>
    public RnaMlmActivation TransformActivation { get; set; }

    /// <summary><c>mlm_head.new_config_activation</c>: the activation a new config writes into <c>lm_head</c>.</summary>
    public RnaMlmActivation NewConfigActivation { get; set; }

    /// <summary><c>mlm_head.layer_norm_eps</c>: a <see cref="double"/> or <see cref="RnaSpec.LayerNormEps"/>.</summary>
    public object? LayerNormEps { get; set; }

    /// <summary><c>mlm_head.tied</c>.</summary>
    public bool Tied { get; set; }

    /// <summary><c>mlm_head.bias</c>.</summary>
    public bool Bias { get; set; }
}

/// <summary>The fields of a generic task head (<c>heads.sequence</c>, <c>heads.token</c>, <c>heads.contact</c>).</summary>
public abstract class RnaTaskHeadAttribute : Attribute
{
    /// <summary><c>heads.&lt;task&gt;.transform</c>.</summary>
    public RnaHeadTransform Transform { get; set; }

    /// <summary><c>heads.&lt;task&gt;.transform_activation</c>.</summary>
    public RnaActivation TransformActivation { get; set; }

    /// <summary><c>heads.&lt;task&gt;.layer_norm_eps</c>.</summary>
    public double LayerNormEps { get; set; }

    /// <summary>false: <c>"&lt;task&gt;": null</c>; no other property may be set then.</summary>
    public bool Enabled { get; set; }
}

/// <summary><c>heads.sequence</c>: a sequence-prediction head on the pooler; <c>Enabled = false</c> writes <c>null</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaSequenceHeadAttribute : RnaTaskHeadAttribute
{
}

/// <summary><c>heads.token</c>: a token-prediction head; <c>Enabled = false</c> writes <c>null</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaTokenHeadAttribute : RnaTaskHeadAttribute
{
    /// <summary><c>heads.token.unfold_kmers</c>: one output per nucleotide, the mean over the k-mers covering it.</summary>
    public bool UnfoldKmers { get; set; }
}

/// <summary><c>heads.contact</c>: a contact-prediction head; <c>Enabled = false</c> writes <c>null</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaContactHeadAttribute : RnaTaskHeadAttribute
{
}

/// <summary><c>heads.secondary_structure</c>; <c>Enabled = false</c> writes <c>null</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaSecondaryStructureHeadAttribute : Attribute
{
    /// <summary><c>heads.secondary_structure.attention_head</c>.</summary>
    public int AttentionHead { get; set; }

    /// <summary><c>heads.secondary_structure.channels</c>.</summary>
    public int Channels { get; set; }

    /// <summary><c>heads.secondary_structure.blocks</c>.</summary>
    public int Blocks { get; set; }

    /// <summary><c>heads.secondary_structure.kernel_size</c>.</summary>
    public int KernelSize { get; set; }

    /// <summary>false: <c>"secondary_structure": null</c>; no other property may be set then.</summary>
    public bool Enabled { get; set; }
}

/// <summary><c>tokenizer</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaTokenizerAttribute : Attribute
{
    /// <summary><c>tokenizer.alphabet</c>: a built-in name (<see cref="RnaSpec"/>) or a <c>string[]</c> of letters.</summary>
    public object? Alphabet { get; set; }

    /// <summary><c>tokenizer.add_bos</c>.</summary>
    public bool AddBos { get; set; }

    /// <summary><c>tokenizer.add_eos</c>.</summary>
    public bool AddEos { get; set; }

    /// <summary><c>tokenizer.upper_case</c>.</summary>
    public bool UpperCase { get; set; }

    /// <summary><c>tokenizer.t_to_u</c>.</summary>
    public bool TToU { get; set; }

    /// <summary><c>tokenizer.u_to_t</c>.</summary>
    public bool UToT { get; set; }

    /// <summary><c>tokenizer.model_max_length</c>: an <see cref="int"/>, <see cref="RnaSpec.Positions"/> or null.</summary>
    public object? ModelMaxLength { get; set; }
}

/// <summary>
/// <c>tokenizer.rna_types</c>: coarse RNA types as extra special tokens at the end of the vocabulary (an indicator token,
/// then <c>&lt;name&gt;</c> per type); <c>Enabled = false</c> writes <c>null</c> (no type tokens).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaTypeTokensAttribute : Attribute
{
    /// <summary><c>tokenizer.rna_types.indicator</c>: the indicator token, e.g. <c>"&lt;ind&gt;"</c>.</summary>
    public string? Indicator { get; set; }

    /// <summary><c>tokenizer.rna_types.types</c>: the type names, e.g. <c>new[] { "rRNA", "tRNA" }</c>.</summary>
    public string[]? Types { get; set; }

    /// <summary>false: <c>"rna_types": null</c>; no other property may be set then.</summary>
    public bool Enabled { get; set; }
}

/// <summary><c>tokenizer.segmentation</c>: how text is cut into tokens.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaSegmentationAttribute : Attribute
{
    /// <summary><c>tokenizer.segmentation.kind</c>.</summary>
    public RnaSegmentation Kind { get; set; }

    /// <summary><c>tokenizer.segmentation.k</c> (kmer).</summary>
    public int K { get; set; }
}

/// <summary>One entry of <c>pretraining_heads</c>: a head the pre-training checkpoints hold besides the MLM head.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class RnaPretrainingHeadAttribute : Attribute
{
    /// <param name="key">The head's module name, e.g. <c>"ss_head"</c>.</param>
    public RnaPretrainingHeadAttribute(string key) => Key = key;

    /// <summary>The module name.</summary>
    public string Key { get; }

    /// <summary><c>pretraining_heads.&lt;key&gt;.kind</c>.</summary>
    public RnaPretrainingHeadKind Kind { get; set; }

    /// <summary><c>num_labels</c>.</summary>
    public int NumLabels { get; set; }

    /// <summary><c>output</c>: the name of the computed logits, or null (loaded, never computed).</summary>
    public string? Output { get; set; }

    /// <summary><c>optional</c>: present only when config.json holds an object at the key.</summary>
    public bool Optional { get; set; }

    /// <summary><c>present</c>: whether a new config has the optional head.</summary>
    public bool Present { get; set; }

    /// <summary><c>transform_activation</c> (masked_lm).</summary>
    public RnaActivation TransformActivation { get; set; }

    /// <summary><c>layer_norm_eps</c> (masked_lm): a <see cref="double"/> or <see cref="RnaSpec.LayerNormEps"/>.</summary>
    public object? LayerNormEps { get; set; }
}

/// <summary><c>checkpoint</c> (aliases and tied keys are <see cref="RnaCheckpointAliasAttribute"/> and <see cref="RnaCheckpointTiedAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnaCheckpointAttribute : Attribute
{
    /// <summary><c>checkpoint.prefix</c>.</summary>
    public string? Prefix { get; set; }

    /// <summary><c>checkpoint.legacy_prefixes</c>.</summary>
    public string[]? LegacyPrefixes { get; set; }

    /// <summary><c>checkpoint.ignore</c>.</summary>
    public string[]? Ignore { get; set; }

    /// <summary>true: <c>"aliases": []</c> (replaces inherited aliases); no <see cref="RnaCheckpointAliasAttribute"/> then.</summary>
    public bool NoAliases { get; set; }

    /// <summary>true: <c>"tied": []</c> (replaces inherited tied keys); no <see cref="RnaCheckpointTiedAttribute"/> then.</summary>
    public bool NoTied { get; set; }
}

/// <summary>One item of <c>checkpoint.aliases</c>, in declaration order.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class RnaCheckpointAliasAttribute : Attribute
{
    /// <param name="pattern"><c>pattern</c>: a .NET regular expression.</param>
    /// <param name="replacement"><c>replacement</c>.</param>
    public RnaCheckpointAliasAttribute(string pattern, string replacement)
    {
        Pattern = pattern;
        Replacement = replacement;
    }

    /// <summary><c>pattern</c>.</summary>
    public string Pattern { get; }

    /// <summary><c>replacement</c>.</summary>
    public string Replacement { get; }
}

/// <summary>One item of <c>checkpoint.tied</c>, in declaration order.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class RnaCheckpointTiedAttribute : Attribute
{
    /// <param name="key"><c>key</c>: filled from <paramref name="source"/> when a file omits it.</param>
    /// <param name="source"><c>source</c>.</param>
    public RnaCheckpointTiedAttribute(string key, string source)
    {
        Key = key;
        Source = source;
    }

    /// <summary><c>key</c>.</summary>
    public string Key { get; }

    /// <summary><c>source</c>.</summary>
    public string Source { get; }
}

/// <summary>
/// One entry of <c>variants</c>, in declaration order: the variant's name and the configuration values it overrides
/// (the paths of docs/spec.md, "Variants").
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class RnaModelVariantAttribute : Attribute
{
    /// <param name="name">The variant's model name, e.g. <c>"tinyrna.510"</c>.</param>
    public RnaModelVariantAttribute(string name) => Name = name;

    /// <summary>The variant's model name.</summary>
    public string Name { get; }

    /// <summary><c>dims.hidden</c>.</summary>
    public int Hidden { get; set; }

    /// <summary><c>dims.layers</c>.</summary>
    public int Layers { get; set; }

    /// <summary><c>dims.heads</c>.</summary>
    public int Heads { get; set; }

    /// <summary><c>dims.intermediate</c>.</summary>
    public int Intermediate { get; set; }

    /// <summary><c>dims.vocab_size</c>: an <see cref="int"/> or <see cref="RnaSpec.FromTokenizer"/>.</summary>
    public object? VocabSize { get; set; }

    /// <summary><c>norm.eps</c>.</summary>
    public double Eps { get; set; }

    /// <summary><c>dims.max_positions</c>.</summary>
    public int MaxPositions { get; set; }

    /// <summary><c>feed_forward.activation</c>.</summary>
    public RnaActivation Activation { get; set; }

    /// <summary><c>mlm_head.transform_activation</c>.</summary>
    public RnaMlmActivation MlmTransformActivation { get; set; }

    /// <summary><c>mlm_head.layer_norm_eps</c>: a <see cref="double"/> or <see cref="RnaSpec.LayerNormEps"/>.</summary>
    public object? MlmLayerNormEps { get; set; }

    /// <summary><c>attention.biases.pair_prior.alpha</c>.</summary>
    public double PairPriorAlpha { get; set; }

    /// <summary><c>embeddings.layer_norm</c>: the default of a config-bound embedding norm.</summary>
    public bool LayerNorm { get; set; }

    /// <summary><c>embeddings.token_dropout</c>: the default of config-bound token dropout.</summary>
    public bool TokenDropout { get; set; }

    /// <summary><c>tokenizer.alphabet</c>: a built-in name or a <see cref="string"/> array of letters.</summary>
    public object? Alphabet { get; set; }

    /// <summary><c>tokenizer.segmentation.kind</c>.</summary>
    public RnaSegmentation Segmentation { get; set; }

    /// <summary><c>tokenizer.segmentation.k</c>.</summary>
    public int K { get; set; }

    /// <summary><c>tokenizer.add_bos</c>.</summary>
    public bool AddBos { get; set; }

    /// <summary><c>tokenizer.add_eos</c>.</summary>
    public bool AddEos { get; set; }

    /// <summary><c>tokenizer.upper_case</c>.</summary>
    public bool UpperCase { get; set; }

    /// <summary><c>tokenizer.t_to_u</c>.</summary>
    public bool TToU { get; set; }

    /// <summary><c>tokenizer.u_to_t</c>.</summary>
    public bool UToT { get; set; }

    /// <summary><c>tokenizer.rna_types.indicator</c>.</summary>
    public string? TypeIndicator { get; set; }

    /// <summary><c>tokenizer.rna_types.types</c>.</summary>
    public string[]? Types { get; set; }

    /// <summary>Optional pre-training heads this variant lacks (each writes <c>pretraining_heads.&lt;name&gt;.present: false</c>).</summary>
    public string[]? AbsentPretrainingHeads { get; set; }

    /// <summary><c>tokenizer.model_max_length</c>: an <see cref="int"/>, <see cref="RnaSpec.Positions"/> or <c>null</c>.</summary>
    public object? ModelMaxLength { get; set; }

    /// <summary><c>output_attention_biases</c>.</summary>
    public bool OutputAttentionBiases { get; set; }

    /// <summary><c>architecture</c>.</summary>
    public RnaArchitecture Architecture { get; set; }
}
