using System;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace RnaLm.Models;

/// <summary>Outputs of a secondary-structure model: pairing probabilities plus the MLM logits it also computes.</summary>
public sealed class StructureOutput : IDisposable
{
    public StructureOutput(Tensor contactMap, Tensor logits, BackboneOutput backbone)
    {
        ContactMap = contactMap;
        Logits = logits;
        Backbone = backbone;
    }

    /// <summary>[B, L', L', 1] pairing probabilities in [0, 1], special tokens removed.</summary>
    public Tensor ContactMap { get; }

    /// <summary>[B, L, V] MLM logits.</summary>
    public Tensor Logits { get; }

    public BackboneOutput Backbone { get; }

    public StructureOutput MoveToOuterDisposeScope()
    {
        ContactMap.MoveToOuterDisposeScope();
        Logits.MoveToOuterDisposeScope();
        Backbone.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        ContactMap.Dispose();
        Logits.Dispose();
        Backbone.Dispose();
    }
}

/// <summary>A model with a secondary-structure head (e.g. <c>ernierna-ss</c>).</summary>
public interface IRnaStructureModel : IRnaMaskedLM
{
    /// <summary>Predicts base-pairing probabilities. Padded batches are not supported by the reference head (NaN); pass one sequence at a time.</summary>
    StructureOutput Predict(Tensor inputIds, Tensor? attentionMask = null, OutputRequest request = OutputRequest.None);
}

/// <summary>Reads the <c>architectures</c> list a config.json carries.</summary>
public static class ConfigArchitectures
{
    /// <summary>True when <paramref name="extensionData"/>'s <c>architectures</c> array names <paramref name="className"/>.</summary>
    public static bool Contains(JsonObject extensionData, string className)
    {
        if (!extensionData.TryGetPropertyValue("architectures", out var node) || node is not JsonArray list) return false;
        foreach (var item in list)
        {
            if (item is JsonValue v && v.TryGetValue<string>(out var name) && name == className) return true;
        }
        return false;
    }

    /// <summary>A config's extension data naming one architecture.</summary>
    public static JsonObject Of(string className) => new() { ["architectures"] = new JsonArray(className) };
}
