using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>The C# type of a config field.</summary>
internal enum ConfigType
{
    Int,
    NullableInt,
    Double,
    String,
    Bool,
    Object,
}

/// <summary>What <c>Validate</c> checks for a field.</summary>
internal enum ConfigCheck
{
    None,
    /// <summary>An integer from 1 to <see cref="ConfigField.Maximum"/>.</summary>
    Positive,
    /// <summary>An integer from 0 to <see cref="ConfigField.Maximum"/>.</summary>
    NonNegative,
    /// <summary>A number in [0, 1) (dropout rates).</summary>
    Fraction,
    /// <summary>A finite number &gt; 0 (epsilons).</summary>
    PositiveFinite,
    /// <summary>A finite number ≥ 0.</summary>
    NonNegativeFinite,
    /// <summary>A finite number.</summary>
    Finite,
    /// <summary>An activation name the runtime knows.</summary>
    Activation,
    /// <summary>A special-token id inside the vocabulary (or null where nullable).</summary>
    TokenId,
    /// <summary>Exactly the spec's value (<see cref="ConfigField.Maximum"/>), e.g. the size of a stored table.</summary>
    Exact,
}

/// <summary>
/// One field of a family's config class: the <c>config.json</c> key, the C# property, its type, its default for each
/// variant and its validation. The table drives the property, <c>FromJson</c>, <c>ToJson</c>, <c>Validate</c> and the
/// variants' initialisers (<see cref="ConfigTable"/>).
/// </summary>
internal sealed record ConfigField(string Key, string Property, ConfigType Type, string Doc, Func<VariantSpec, string> Default,
    ConfigCheck Check = ConfigCheck.None, long Maximum = 0)
{
    public string TypeName => Type switch
    {
        ConfigType.Int => "int",
        ConfigType.NullableInt => "int?",
        ConfigType.Double => "double",
        ConfigType.String => "string",
        ConfigType.Bool => "bool",
        _ => "global::System.Text.Json.Nodes.JsonObject?",
    };

    public string Getter => Type switch
    {
        ConfigType.Int => "GetInt",
        ConfigType.NullableInt => "GetNullableInt",
        ConfigType.Double => "GetDouble",
        ConfigType.String => "GetString",
        ConfigType.Bool => "GetBool",
        _ => "GetObject",
    };
}

/// <summary>The config fields of a spec: the ones every family has, then those its kinds and switches add.</summary>
internal static class ConfigTable
{
    /// <summary>Upper bounds of the sizes, far above any published model but low enough that a hostile config.json
    /// cannot make the model allocate without bound.</summary>
    public const long MaxHidden = 65_536, MaxLayers = 1_024, MaxHeads = 1_024, MaxIntermediate = 262_144, MaxVocab = 1_048_576,
        MaxPositions = 1_048_576, MaxTypes = 1_024, MaxLabels = 1_048_576;

    public static IReadOnlyList<ConfigField> For(ModelSpec spec)
    {
        var b = spec.Variants[0];
        var fields = new List<ConfigField>
        {
            new("vocab_size", "VocabSize", ConfigType.Int, "vocab_size: tokens in the vocabulary (V).", v => Code.Int(v.Dims.VocabSize ?? 0), ConfigCheck.Positive, MaxVocab),
            new("hidden_size", "HiddenSize", ConfigType.Int, "hidden_size (H).", v => Code.Int(v.Dims.Hidden), ConfigCheck.Positive, MaxHidden),
            new("num_hidden_layers", "NumHiddenLayers", ConfigType.Int, "num_hidden_layers (N).", v => Code.Int(v.Dims.Layers), ConfigCheck.Positive, MaxLayers),
            new("num_attention_heads", "NumAttentionHeads", ConfigType.Int, "num_attention_heads (h); must divide hidden_size.", v => Code.Int(v.Dims.Heads), ConfigCheck.Positive, MaxHeads),
            new("intermediate_size", "IntermediateSize", ConfigType.Int, "intermediate_size of the feed-forward block.", v => Code.Int(v.Dims.Intermediate), ConfigCheck.Positive, MaxIntermediate),
            new("hidden_act", "HiddenAct", ConfigType.String, "hidden_act of the feed-forward block.", v => Code.String(v.HiddenAct), ConfigCheck.Activation),
            new("hidden_dropout", "HiddenDropout", ConfigType.Double, "hidden_dropout (training only).", _ => "0.1", ConfigCheck.Fraction),
            new("attention_dropout", "AttentionDropout", ConfigType.Double, "attention_dropout (training only).", _ => "0.1", ConfigCheck.Fraction),
            new("max_position_embeddings", "MaxPositionEmbeddings", ConfigType.Int,
                spec.PositionKind.NeedsMaxPositions && spec.PositionKind.UsableTokens(spec.Position) is not null
                    ? "max_position_embeddings: rows of the learned position table, the longest input in tokens."
                    : "max_position_embeddings (informational for this position kind).",
                v => Code.Int(v.MaxPositions), spec.PositionKind.NeedsMaxPositions ? ConfigCheck.Positive : ConfigCheck.NonNegative, MaxPositions),
            new("initializer_range", "InitializerRange", ConfigType.Double, "initializer_range: std of the normal initialisation.", _ => "0.02", ConfigCheck.NonNegativeFinite),
            new("layer_norm_eps", "LayerNormEps", ConfigType.Double, "layer_norm_eps of every norm.", v => Code.Double(v.LayerNormEps), ConfigCheck.PositiveFinite),
        };
        if (spec.Embeddings.TokenType is { } tokenType)
        {
            fields.Add(new("type_vocab_size", "TypeVocabSize", ConfigType.Int, "type_vocab_size: rows of the token-type table.", _ => Code.Int(tokenType.Size), ConfigCheck.Exact, tokenType.Size));
        }
        foreach (var (sw, doc) in new[] { (spec.Embeddings.LayerNorm, "a norm after the embeddings"), (spec.Embeddings.TokenDropout, "ESM token dropout: &lt;mask&gt; rows zeroed, rows rescaled by 0.88 / (1 − mask share)") })
        {
            if (sw.IsConfig) fields.Add(new(sw.ConfigKey!, sw.Property, ConfigType.Bool, sw.ConfigKey + ": " + doc + ".", v => Code.Bool(v.Switch(sw))));
        }
        foreach (var head in spec.PretrainingHeads.Where(h => h.Optional))
        {
            int labels = head.Head.Get<int>("num_labels");
            fields.Add(new(head.Key, head.Property, ConfigType.Object,
                head.Key + ": settings of the optional pre-training head " + head.Key + " (null: the checkpoint has no such head).",
                v => v.SwitchValue(head.Key, true) ? "new global::System.Text.Json.Nodes.JsonObject { [\"num_labels\"] = " + Code.Int(labels) + " }" : "null"));
        }
        if (spec.Bias("pair_prior") is not null)
        {
            fields.Add(new("pairwise_alpha", "PairwiseAlpha", ConfigType.Double, "pairwise_alpha: the G–U value of the base-pairing prior (A–U 2, C–G 3).", v => Code.Double(v.PairwiseAlpha), ConfigCheck.Finite));
        }
        if (spec.CarriesLogits)
        {
            fields.Add(new("output_attention_biases", "OutputAttentionBiases", ConfigType.Bool, "output_attention_biases: return each layer's carried attention logits.", v => Code.Bool(v.OutputAttentionBiases)));
        }
        if (spec.Variants.Any(v => v.Tokenizer.Segmentation.KindName == "kmer"))
        {
            fields.Add(new("nmers", "Nmers", ConfigType.NullableInt, "nmers: k of the overlapping k-mer tokenizer (null = single nucleotides).",
                v => v.Tokenizer.Segmentation.KindName == "kmer" ? Code.Int(v.Tokenizer.Nmers) : "null"));
        }
        if (spec.Variants.Any(v => v.Tokenizer.Codon))
        {
            fields.Add(new("codon", "Codon", ConfigType.Bool, "codon: the tokenizer cuts sequences into non-overlapping codons.", v => Code.Bool(v.Tokenizer.Codon)));
        }
        fields.Add(new("pad_token_id", "PadTokenId", ConfigType.Int, "pad_token_id.", _ => "0", ConfigCheck.TokenId));
        fields.Add(new("bos_token_id", "BosTokenId", ConfigType.NullableInt, "bos_token_id (&lt;cls&gt;); null when sequences have no &lt;cls&gt;.", _ => "1", ConfigCheck.TokenId));
        fields.Add(new("eos_token_id", "EosTokenId", ConfigType.NullableInt, "eos_token_id; null when sequences have no &lt;eos&gt;.", _ => "2", ConfigCheck.TokenId));
        fields.Add(new("unk_token_id", "UnkTokenId", ConfigType.Int, "unk_token_id.", _ => "3", ConfigCheck.TokenId));
        fields.Add(new("mask_token_id", "MaskTokenId", ConfigType.Int, "mask_token_id.", _ => "4", ConfigCheck.TokenId));
        fields.Add(new("null_token_id", "NullTokenId", ConfigType.NullableInt, "null_token_id.", _ => "5", ConfigCheck.TokenId));
        fields.Add(new("tie_word_embeddings", "TieWordEmbeddings", ConfigType.Bool,
            spec.MlmHead.Tied ? "tie_word_embeddings: the MLM decoder shares the word embeddings." : "tie_word_embeddings: the MLM decoder shares the word embeddings (this family stores its own decoder).",
            _ => Code.Bool(spec.MlmHead.Tied)));
        fields.Add(new("num_labels", "NumLabels", ConfigType.Int, "num_labels: default output size of task heads.", _ => "1", ConfigCheck.Positive, MaxLabels));
        string? newLmHead = FamilyEmitter.ClassLmHead(spec, b);
        fields.Add(new("lm_head", "LmHead", ConfigType.Object, newLmHead is null
            ? "lm_head: MLM head settings; null means the defaults."
            : "lm_head: MLM head settings, as a new config writes them; a config.json with <c>lm_head: null</c> means the spec's older defaults.",
            _ => newLmHead ?? "null"));
        fields.Add(new("head", "Head", ConfigType.Object, "head: task-head settings; null means the defaults.", _ => "null"));
        return fields;
    }
}
