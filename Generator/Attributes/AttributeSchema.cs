using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;

namespace RnaLm.Generator.Attributes;

internal enum AttributeKind
{
    /// <summary>[RnaModel]: the top-level object.</summary>
    Root,
    /// <summary>An attribute whose properties are the fields of one JSON object (dims, norm, ...).</summary>
    Section,
    /// <summary>An attribute that adds one item (an object) to a JSON array, in declaration order.</summary>
    ArrayItem,
    /// <summary>[RnaModelVariant]: one entry of "variants", its overrides at nested paths.</summary>
    Variant,
    /// <summary>An attribute that adds one entry to an object keyed by its first constructor argument ("pretraining_heads").</summary>
    KeyedItem,
}

/// <summary>How one attribute of RnaLm.Abstractions maps onto the JSON spec tree.</summary>
/// <param name="Path">The JSON object the attribute writes ("" = top level; for array items, the array).</param>
/// <param name="Constructor">The JSON field of each constructor parameter, in order.</param>
/// <param name="Properties">Property name → JSON field (a dotted path relative to the object for variants).</param>
/// <param name="Nullable">The attribute has <c>Enabled</c>; <c>Enabled = false</c> writes <c>null</c> for the object.</param>
internal sealed record AttributeMapping(string Name, AttributeKind Kind, string Path, ImmutableArray<string> Constructor,
    ImmutableDictionary<string, string> Properties, bool Nullable = false);

/// <summary>
/// The one table that ties the attributes of RnaLm.Abstractions (Generator.Abstractions/) to the JSON spec language:
/// every JSON field has exactly one attribute property (docs/spec.md, "Attribute specs"). A test checks this table
/// against the attribute types and against <see cref="Spec.SpecSchema"/>.
/// </summary>
internal static class AttributeSchema
{
    public const string Namespace = "RnaLm.Specs";
    public const string ModelAttribute = "RnaModelAttribute";
    public const string ModelAttributeMetadataName = Namespace + "." + ModelAttribute;

    /// <summary>
    /// [RnaModelVariant] property listing optional pre-training heads the variant lacks: each name writes
    /// <c>pretraining_heads.&lt;name&gt;.present: false</c>.
    /// </summary>
    public const string AbsentPretrainingHeads = "AbsentPretrainingHeads";

    /// <summary>Flags that are not JSON fields: <c>Enabled</c> (nullable blocks), <c>NoAliases</c>/<c>NoTied</c> (empty arrays).</summary>
    public const string Enabled = "Enabled";

    public static readonly ImmutableDictionary<string, AttributeMapping> Mappings = Build(
        new AttributeMapping(ModelAttribute, AttributeKind.Root, "", ImmutableArray.Create("name"), Props(
            "TypeName", "Namespace", "Description", "Extends", "SpecVersion", "OutputAttentionBiases", "Architecture")),
        Section("RnaDimsAttribute", "dims", "Hidden", "Layers", "Heads", "Intermediate", "VocabSize", "MaxPositions"),
        Section("RnaNormAttribute", "norm", "Kind", "Eps", "Final"),
        Section("RnaLayerAttribute", "layer", "Kind"),
        Section("RnaEmbeddingsAttribute", "embeddings", "ZeroPad") with
        {
            Properties = Props("ZeroPad").AddRange(new Dictionary<string, string>
            {
                ["LayerNorm"] = "layer_norm.default",
                ["LayerNormConfig"] = "layer_norm.config",
                ["TokenDropout"] = "token_dropout.default",
                ["TokenDropoutConfig"] = "token_dropout.config",
            }),
        },
        Section("RnaPositionAttribute", "position", "Kind", "Offset", "PaddingAware", "Dim", "Base", "Interleaved", "StoredFrequencies"),
        Section("RnaTokenTypeAttribute", "embeddings.token_type", "Size", "Added") with { Nullable = true },
        Section("RnaAttentionAttribute", "attention", "QkvBias", "OutputBias", "Softmax"),
        Section("RnaPairPriorAttribute", "attention.biases.pair_prior", "Alpha", "Activation") with { Nullable = true },
        Section("RnaFeedForwardAttribute", "feed_forward", "Kind", "Activation", "Gate", "Width", "Bias"),
        Section("RnaPoolerAttribute", "pooler", "InCheckpoint", "Activation"),
        Section("RnaMlmHeadAttribute", "mlm_head", "TransformActivation", "NewConfigActivation", "LayerNormEps", "Tied", "Bias"),
        Section("RnaSequenceHeadAttribute", "heads.sequence", "Transform", "TransformActivation", "LayerNormEps") with { Nullable = true },
        Section("RnaTokenHeadAttribute", "heads.token", "Transform", "TransformActivation", "LayerNormEps", "UnfoldKmers") with { Nullable = true },
        Section("RnaContactHeadAttribute", "heads.contact", "Transform", "TransformActivation", "LayerNormEps") with { Nullable = true },
        Section("RnaSecondaryStructureHeadAttribute", "heads.secondary_structure", "AttentionHead", "Channels", "Blocks", "KernelSize") with { Nullable = true },
        Section("RnaTokenizerAttribute", "tokenizer", "Alphabet", "AddBos", "AddEos", "UpperCase", "TToU", "UToT", "ModelMaxLength"),
        Section("RnaSegmentationAttribute", "tokenizer.segmentation", "Kind", "K"),
        Section("RnaTypeTokensAttribute", "tokenizer.rna_types", "Indicator", "Types") with { Nullable = true },
        Section("RnaCheckpointAttribute", "checkpoint", "Prefix", "LegacyPrefixes", "Ignore"),
        new AttributeMapping("RnaCheckpointAliasAttribute", AttributeKind.ArrayItem, "checkpoint.aliases",
            ImmutableArray.Create("pattern", "replacement"), ImmutableDictionary<string, string>.Empty),
        new AttributeMapping("RnaCheckpointTiedAttribute", AttributeKind.ArrayItem, "checkpoint.tied",
            ImmutableArray.Create("key", "source"), ImmutableDictionary<string, string>.Empty),
        new AttributeMapping("RnaPretrainingHeadAttribute", AttributeKind.KeyedItem, "pretraining_heads", ImmutableArray.Create("(key)"),
            Props("Kind", "NumLabels", "Output", "Optional", "Present", "TransformActivation", "LayerNormEps")),
        new AttributeMapping("RnaModelVariantAttribute", AttributeKind.Variant, "variants", ImmutableArray.Create("(variant name)"),
            new Dictionary<string, string>
            {
                ["Hidden"] = "dims.hidden",
                ["Layers"] = "dims.layers",
                ["Heads"] = "dims.heads",
                ["Intermediate"] = "dims.intermediate",
                ["VocabSize"] = "dims.vocab_size",
                ["Eps"] = "norm.eps",
                ["MaxPositions"] = "dims.max_positions",
                ["Activation"] = "feed_forward.activation",
                ["MlmTransformActivation"] = "mlm_head.transform_activation",
                ["MlmLayerNormEps"] = "mlm_head.layer_norm_eps",
                ["PairPriorAlpha"] = "attention.biases.pair_prior.alpha",
                ["LayerNorm"] = "embeddings.layer_norm",
                ["TokenDropout"] = "embeddings.token_dropout",
                ["Alphabet"] = "tokenizer.alphabet",
                ["Segmentation"] = "tokenizer.segmentation.kind",
                ["K"] = "tokenizer.segmentation.k",
                ["AddBos"] = "tokenizer.add_bos",
                ["AddEos"] = "tokenizer.add_eos",
                ["UpperCase"] = "tokenizer.upper_case",
                ["TToU"] = "tokenizer.t_to_u",
                ["UToT"] = "tokenizer.u_to_t",
                ["TypeIndicator"] = "tokenizer.rna_types.indicator",
                ["Types"] = "tokenizer.rna_types.types",
                [AbsentPretrainingHeads] = "pretraining_heads.*.present",
                ["ModelMaxLength"] = "tokenizer.model_max_length",
                ["OutputAttentionBiases"] = "output_attention_biases",
                ["Architecture"] = "architecture",
            }.ToImmutableDictionary()));

    /// <summary>[RnaCheckpoint] flags that write an empty array, and the item attribute they exclude.</summary>
    public static readonly ImmutableDictionary<string, (string Field, string ItemAttribute)> EmptyArrayFlags =
        new Dictionary<string, (string, string)>
        {
            ["NoAliases"] = ("aliases", "RnaCheckpointAliasAttribute"),
            ["NoTied"] = ("tied", "RnaCheckpointTiedAttribute"),
        }.ToImmutableDictionary();

    /// <summary>"RnaDimsAttribute" → "RnaDims" (as written in source).</summary>
    public static string ShortName(string attributeName) =>
        attributeName.EndsWith("Attribute", System.StringComparison.Ordinal) ? attributeName.Substring(0, attributeName.Length - "Attribute".Length) : attributeName;

    /// <summary>The JSON spelling of a property or enum member name: "TToU" → "t_to_u", "GeluNew" → "gelu_new".</summary>
    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool afterLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool startsWord = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (afterLowerOrDigit || startsWord) builder.Append('_');
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    private static AttributeMapping Section(string name, string path, params string[] properties) =>
        new(name, AttributeKind.Section, path, ImmutableArray<string>.Empty, Props(properties));

    private static ImmutableDictionary<string, string> Props(params string[] properties)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, string>(System.StringComparer.Ordinal);
        foreach (var p in properties) builder.Add(p, SnakeCase(p));
        return builder.ToImmutable();
    }

    private static ImmutableDictionary<string, AttributeMapping> Build(params AttributeMapping[] mappings)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, AttributeMapping>(System.StringComparer.Ordinal);
        foreach (var m in mappings) builder.Add(m.Name, m);
        return builder.ToImmutable();
    }
}
