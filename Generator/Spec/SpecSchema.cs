using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace RnaLm.Generator.Spec;

/// <summary>
/// The field names of the spec language's non-slot objects, per object (keyed by the schema path of the object:
/// "" for the root, "embeddings.position" for a nested one), and the paths a variant may override.
/// Used for unknown-field diagnostics and "did you mean" suggestions, at the top level and in variants.
/// </summary>
internal static class SpecSchema
{
    public const int SupportedVersion = 2;

    /// <summary>
    /// The fields of every object that is not a slot (a slot's fields are its kind's, see <see cref="Kinds.KindRegistry"/>),
    /// keyed by the object's schema path.
    /// </summary>
    public static readonly ImmutableDictionary<string, ImmutableArray<string>> Fields =
        new Dictionary<string, ImmutableArray<string>>(StringComparer.Ordinal)
        {
            [""] = ImmutableArray.Create(
                "spec_version", "name", "type_name", "namespace", "description", "extends", "dims", "norm", "layer", "position",
                "embeddings", "attention", "feed_forward", "pooler", "mlm_head", "heads", "pretraining_heads", "tokenizer", "checkpoint",
                "output_attention_biases", "architecture", "variants"),
            ["heads"] = ImmutableArray.Create("sequence", "token", "contact", "secondary_structure"),
            ["heads.sequence"] = ImmutableArray.Create("transform", "transform_activation", "layer_norm_eps"),
            ["heads.token"] = ImmutableArray.Create("transform", "transform_activation", "layer_norm_eps", "unfold_kmers"),
            ["heads.contact"] = ImmutableArray.Create("transform", "transform_activation", "layer_norm_eps"),
            ["heads.secondary_structure"] = ImmutableArray.Create("attention_head", "channels", "blocks", "kernel_size"),
            ["dims"] = ImmutableArray.Create("hidden", "layers", "heads", "intermediate", "vocab_size", "max_positions"),
            ["embeddings"] = ImmutableArray.Create("token_type", "layer_norm", "token_dropout", "zero_pad"),
            ["embeddings.token_type"] = ImmutableArray.Create("size", "added"),
            ["embeddings.layer_norm"] = ImmutableArray.Create("default", "config"),
            ["embeddings.token_dropout"] = ImmutableArray.Create("default", "config"),
            ["attention"] = ImmutableArray.Create("qkv_bias", "output_bias", "softmax", "biases"),
            ["pooler"] = ImmutableArray.Create("in_checkpoint", "activation"),
            ["mlm_head"] = ImmutableArray.Create("transform_activation", "new_config_activation", "layer_norm_eps", "tied", "bias"),
            ["tokenizer"] = ImmutableArray.Create("alphabet", "segmentation", "add_bos", "add_eos", "upper_case", "t_to_u", "u_to_t", "model_max_length", "rna_types"),
            ["tokenizer.rna_types"] = ImmutableArray.Create("indicator", "types"),
            ["checkpoint"] = ImmutableArray.Create("prefix", "legacy_prefixes", "aliases", "tied", "ignore"),
            ["checkpoint.aliases"] = ImmutableArray.Create("pattern", "replacement"),
            ["checkpoint.tied"] = ImmutableArray.Create("key", "source"),
        }.ToImmutableDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Configuration values every spec has that a variant may change; kind fields with a config key, the whole
    /// <c>tokenizer.segmentation</c> slot and config-bound switches are added per spec (SpecParser.IsOverridable).
    /// </summary>
    public static readonly ImmutableHashSet<string> Overridable = ImmutableHashSet.Create(
        StringComparer.Ordinal,
        "dims.hidden", "dims.layers", "dims.heads", "dims.intermediate", "dims.vocab_size", "dims.max_positions",
        "mlm_head.transform_activation", "mlm_head.layer_norm_eps",
        "tokenizer.alphabet", "tokenizer.segmentation", "tokenizer.add_bos", "tokenizer.add_eos",
        "tokenizer.upper_case", "tokenizer.t_to_u", "tokenizer.u_to_t", "tokenizer.model_max_length", "tokenizer.rna_types",
        "output_attention_biases", "architecture");

    /// <summary>Values of a task head's "transform".</summary>
    public static readonly ImmutableArray<string> HeadTransforms = ImmutableArray.Create("none", "linear", "nonlinear");

    /// <summary>Values of "architecture": the model class a variant's checkpoints hold.</summary>
    public static readonly ImmutableArray<string> Architectures = ImmutableArray.Create("masked_lm", "secondary_structure");

    /// <summary>Activation names accepted for feed_forward, pooler, pair_prior and the MLM transform.</summary>
    public static readonly ImmutableArray<string> Activations = ImmutableArray.Create("gelu", "relu", "silu", "tanh", "gelu_new");

    public static readonly ImmutableArray<string> MlmActivations = Activations.Add("hidden_act");

    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    /// <summary>
    /// The closest candidate when it is close enough to be a likely typo: equal after dropping case,
    /// '_' and '-', or within a Levenshtein distance of about a third of the name's length.
    /// </summary>
    public static string? Suggest(string name, IEnumerable<string> candidates)
    {
        string normalized = Normalize(name);
        int limit = Math.Max(1, Math.Min(3, (name.Length + 1) / 3));
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (candidate == name) continue;
            if (Normalize(candidate) == normalized) return candidate;
            int distance = Levenshtein(name, candidate);
            if (distance <= limit && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>"; did you mean 'x'?" or "" (used as the last message argument).</summary>
    public static string DidYouMean(string name, IEnumerable<string> candidates)
    {
        var suggestion = Suggest(name, candidates);
        return suggestion is null ? "" : "; did you mean '" + suggestion + "'?";
    }

    public static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static string Normalize(string s)
    {
        var chars = new List<char>(s.Length);
        foreach (char c in s)
        {
            if (c == '_' || c == '-') continue;
            chars.Add(char.ToLowerInvariant(c));
        }
        return new string(chars.ToArray());
    }
}
