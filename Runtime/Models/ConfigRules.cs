using System;
using System.Globalization;

namespace RnaLm.Models;

/// <summary>
/// Ranges every family's configuration must respect, checked by the generated <c>Validate</c> after its own
/// structural checks: sizes within bounds far above any published RNA language model (so that a corrupt or hostile
/// <c>config.json</c> is refused before anything is sized from it), LayerNorm epsilons positive, dropout probabilities
/// in [0, 1). Messages name the source file and the field.
/// </summary>
public static class ConfigRules
{
    /// <summary>Largest <c>hidden_size</c> accepted.</summary>
    public const int MaxHiddenSize = 65_536;

    /// <summary>Largest <c>num_hidden_layers</c> accepted.</summary>
    public const int MaxLayers = 1_024;

    /// <summary>Largest <c>num_attention_heads</c> accepted.</summary>
    public const int MaxHeads = 1_024;

    /// <summary>Largest <c>intermediate_size</c> accepted.</summary>
    public const int MaxIntermediateSize = 262_144;

    /// <summary>Largest <c>vocab_size</c> accepted.</summary>
    public const int MaxVocabSize = 1_048_576;

    /// <summary>Largest <c>max_position_embeddings</c> accepted.</summary>
    public const int MaxPositionEmbeddings = 1_048_576;

    /// <summary>Largest <c>num_labels</c> accepted.</summary>
    public const int MaxLabels = 1_048_576;

    /// <summary>Checks the sizes of <paramref name="config"/> and the given values.</summary>
    /// <param name="source">The file (or description) the config came from, for messages.</param>
    /// <param name="config">The config whose sizes are checked.</param>
    /// <param name="hiddenDropout"><c>hidden_dropout</c>.</param>
    /// <param name="attentionDropout"><c>attention_dropout</c>.</param>
    /// <param name="layerNormEps"><c>layer_norm_eps</c>.</param>
    /// <param name="lmHeadLayerNormEps">The MLM head's epsilon (<c>lm_head.layer_norm_eps</c>, or its default).</param>
    /// <param name="initializerRange"><c>initializer_range</c>.</param>
    /// <param name="numLabels"><c>num_labels</c>.</param>
    /// <exception cref="ConfigException">A value is out of range.</exception>
    public static void Check(string source, IModelConfig config, double hiddenDropout, double attentionDropout, double layerNormEps,
        double lmHeadLayerNormEps, double initializerRange, int numLabels)
    {
        ArgumentNullException.ThrowIfNull(config);
        AtMost(source, "hidden_size", config.HiddenSize, MaxHiddenSize);
        AtMost(source, "num_hidden_layers", config.NumHiddenLayers, MaxLayers);
        AtMost(source, "num_attention_heads", config.NumAttentionHeads, MaxHeads);
        AtMost(source, "intermediate_size", config.IntermediateSize, MaxIntermediateSize);
        AtMost(source, "vocab_size", config.VocabSize, MaxVocabSize);
        AtMost(source, "max_position_embeddings", config.MaxPositionEmbeddings, MaxPositionEmbeddings);
        if (numLabels < 1 || numLabels > MaxLabels)
        {
            throw Fail(source, $"num_labels must be between 1 and {MaxLabels:N0}, found {numLabels}.");
        }
        Probability(source, "hidden_dropout", hiddenDropout);
        Probability(source, "attention_dropout", attentionDropout);
        Epsilon(source, "layer_norm_eps", layerNormEps);
        Epsilon(source, "lm_head.layer_norm_eps", lmHeadLayerNormEps);
        if (!(initializerRange >= 0) || !double.IsFinite(initializerRange))
        {
            throw Fail(source, $"initializer_range must be a non-negative number, found {Show(initializerRange)}.");
        }
    }

    private static void AtMost(string source, string field, int value, int maximum)
    {
        if (value > maximum)
        {
            throw Fail(source, $"{field} is {value:N0}, more than the largest supported value {maximum:N0} (a corrupt config?).");
        }
    }

    private static void Probability(string source, string field, double value)
    {
        if (!(value >= 0 && value < 1))
        {
            throw Fail(source, $"{field} must be a probability in [0, 1), found {Show(value)}.");
        }
    }

    private static void Epsilon(string source, string field, double value)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            throw Fail(source, $"{field} must be a positive number (it keeps LayerNorm from dividing by zero), found {Show(value)}.");
        }
    }

    private static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static ConfigException Fail(string source, string message) => new($"{source}: {message}");
}
