using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Models;

/// <summary>Which optional outputs a forward pass should return.</summary>
[Flags]
public enum OutputRequest
{
    None = 0,
    /// <summary>N+1 hidden states: the embedding output, then each layer's output (the last is <c>last_hidden_state</c>).</summary>
    HiddenStates = 1,
    /// <summary>N post-softmax attention maps [B, heads, L, L].</summary>
    Attentions = 2,
    /// <summary>ERNIE-RNA only: the N pre-softmax logits each layer hands to the next [B, heads, L, L].</summary>
    AttentionBiases = 4,
    /// <summary>The logits of the pre-training heads a family declares besides the MLM head (<see cref="MaskedLMOutput.Heads"/>).</summary>
    PretrainingHeads = 8,
}

/// <summary>Outputs of a backbone forward pass. Owns its tensors; dispose it (or move them) when done.</summary>
public sealed class BackboneOutput : IDisposable
{
    public BackboneOutput(Tensor lastHiddenState, Tensor? poolerOutput = null, IReadOnlyList<Tensor>? hiddenStates = null,
        IReadOnlyList<Tensor>? attentions = null, IReadOnlyList<Tensor>? attentionBiases = null)
    {
        LastHiddenState = lastHiddenState;
        PoolerOutput = poolerOutput;
        HiddenStates = hiddenStates;
        Attentions = attentions;
        AttentionBiases = attentionBiases;
    }

    /// <summary>[B, L, H].</summary>
    public Tensor LastHiddenState { get; }

    /// <summary>[B, H], when the backbone has a pooler.</summary>
    public Tensor? PoolerOutput { get; }

    /// <summary>N+1 tensors [B, L, H] when requested.</summary>
    public IReadOnlyList<Tensor>? HiddenStates { get; }

    /// <summary>N tensors [B, heads, L, L] when requested.</summary>
    public IReadOnlyList<Tensor>? Attentions { get; }

    /// <summary>N tensors [B, heads, L, L] when requested (models with a carried attention bias only).</summary>
    public IReadOnlyList<Tensor>? AttentionBiases { get; }

    /// <summary>Moves every tensor to the enclosing dispose scope (used at the end of a forward).</summary>
    public BackboneOutput MoveToOuterDisposeScope()
    {
        foreach (var t in AllTensors()) t.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Detaches every tensor from any dispose scope, so the caller owns them.</summary>
    public BackboneOutput DetachFromDisposeScope()
    {
        foreach (var t in AllTensors()) t.DetachFromDisposeScope();
        return this;
    }

    public IEnumerable<Tensor> AllTensors()
    {
        yield return LastHiddenState;
        if (PoolerOutput is not null) yield return PoolerOutput;
        foreach (var list in new[] { HiddenStates, Attentions, AttentionBiases })
        {
            if (list is null) continue;
            foreach (var t in list)
            {
                if (!ReferenceEquals(t, LastHiddenState)) yield return t;
            }
        }
    }

    public void Dispose()
    {
        foreach (var t in AllTensors()) t.Dispose();
    }
}

/// <summary>Outputs of a masked-language-model forward pass.</summary>
public sealed class MaskedLMOutput : IDisposable
{
    public MaskedLMOutput(Tensor logits, BackboneOutput backbone, IReadOnlyDictionary<string, Tensor>? heads = null)
    {
        Logits = logits;
        Backbone = backbone;
        Heads = heads;
    }

    /// <summary>[B, L, V] over the full vocabulary, special positions included.</summary>
    public Tensor Logits { get; }

    public BackboneOutput Backbone { get; }

    /// <summary>
    /// The logits of the family's other pre-training heads by output name (e.g. <c>ss_logits</c>), when requested with
    /// <see cref="OutputRequest.PretrainingHeads"/>; null otherwise.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor>? Heads { get; }

    public MaskedLMOutput MoveToOuterDisposeScope()
    {
        Logits.MoveToOuterDisposeScope();
        Backbone.MoveToOuterDisposeScope();
        if (Heads is not null) foreach (var t in Heads.Values) t.MoveToOuterDisposeScope();
        return this;
    }

    public MaskedLMOutput DetachFromDisposeScope()
    {
        Logits.DetachFromDisposeScope();
        Backbone.DetachFromDisposeScope();
        if (Heads is not null) foreach (var t in Heads.Values) t.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Logits.Dispose();
        Backbone.Dispose();
        if (Heads is not null) foreach (var t in Heads.Values) t.Dispose();
    }
}
