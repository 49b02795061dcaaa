using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using RnaLm.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>Sizes that override a variant's default configuration (null = keep).</summary>
public sealed record ConfigOverrides
{
    public int? HiddenSize { get; init; }

    public int? NumHiddenLayers { get; init; }

    public int? NumAttentionHeads { get; init; }

    public int? IntermediateSize { get; init; }

    public int? MaxPositionEmbeddings { get; init; }

    public double? HiddenDropout { get; init; }

    public double? AttentionDropout { get; init; }

    public bool IsEmpty => HiddenSize is null && NumHiddenLayers is null && NumAttentionHeads is null && IntermediateSize is null &&
        MaxPositionEmbeddings is null && HiddenDropout is null && AttentionDropout is null;
}

/// <summary>Building configurations and freshly initialised models for training.</summary>
public static class ModelSetup
{
    /// <summary>
    /// Applies <paramref name="overrides"/> to <paramref name="config"/> through its <c>config.json</c> form (so it works
    /// for every generated family) and reads it back with the family's validation.
    /// </summary>
    public static IModelConfig WithOverrides(IModelFamily family, IModelConfig config, ConfigOverrides overrides)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(overrides);
        if (overrides.IsEmpty) return config;
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        void Set(string name, JsonNode? value)
        {
            if (value is not null) json[name] = value;
        }
        Set("hidden_size", overrides.HiddenSize);
        Set("num_hidden_layers", overrides.NumHiddenLayers);
        Set("num_attention_heads", overrides.NumAttentionHeads);
        Set("intermediate_size", overrides.IntermediateSize);
        Set("max_position_embeddings", overrides.MaxPositionEmbeddings);
        Set("hidden_dropout", overrides.HiddenDropout);
        Set("attention_dropout", overrides.AttentionDropout);
        return family.ReadConfig(json.ToJsonString(), "configuration overrides");
    }

    /// <summary>
    /// BERT initialisation (what Hugging Face's <c>_init_weights</c> does): linear and embedding weights from
    /// N(0, <paramref name="std"/>), biases zero, LayerNorm weight 1 and bias 0, the padding row of embeddings zero.
    /// Uses TorchSharp's global generator, so seed it first (<see cref="Seed"/>).
    /// </summary>
    public static void InitializeWeights(nn.Module module, double std = 0.02)
    {
        ArgumentNullException.ThrowIfNull(module);
        RnaLm.Modules.WeightInit.Apply(module, std);
    }

    /// <summary>Zeroes the padding row of every word-embedding table (its gradient is zero, so it stays zero).</summary>
    public static void ZeroPaddingRow(nn.Module module, int padTokenId)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (name.EndsWith("word_embeddings.weight", StringComparison.Ordinal) && padTokenId >= 0 && padTokenId < parameter.shape[0])
            {
                parameter[padTokenId].zero_();
            }
        }
    }

    /// <summary>Seeds TorchSharp's global generator (parameter initialisation, dropout).</summary>
    public static void Seed(long seed) => torch.random.manual_seed(seed);

    /// <summary>The number of elements of every distinct parameter (tied tensors once).</summary>
    public static long CountParameters(nn.Module module)
    {
        var seen = new HashSet<IntPtr>();
        long total = 0;
        foreach (var (_, p) in module.named_parameters())
        {
            if (seen.Add(AdamW.DataPointer(p))) total += p.numel();
        }
        return total;
    }
}
