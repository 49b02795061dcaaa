using System;
using static TorchSharp.torch;

namespace RnaLm.Models;

/// <summary>The generic task heads every family supports (models.md §1.7).</summary>
public enum PredictionTask
{
    /// <summary>One prediction per sequence, from the pooler output (<c>sequence_head</c>).</summary>
    Sequence,
    /// <summary>One prediction per token, special tokens removed (<c>token_head</c>).</summary>
    Token,
    /// <summary>One prediction per token pair, special tokens removed, symmetric (<c>contact_head</c>).</summary>
    Contact,
}

/// <summary>Logits of a task head plus the backbone outputs.</summary>
public sealed class PredictionOutput : IDisposable
{
    public PredictionOutput(Tensor logits, BackboneOutput backbone)
    {
        Logits = logits;
        Backbone = backbone;
    }

    /// <summary>Sequence [B, labels]; token [B, L', labels]; contact [B, L', L', labels].</summary>
    public Tensor Logits { get; }

    public BackboneOutput Backbone { get; }

    public PredictionOutput MoveToOuterDisposeScope()
    {
        Logits.MoveToOuterDisposeScope();
        Backbone.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Logits.Dispose();
        Backbone.Dispose();
    }
}

/// <summary>A backbone plus one task head.</summary>
public interface IRnaPredictionModel
{
    PredictionTask Task { get; }

    IRnaBackbone Backbone { get; }

    PredictionOutput Forward(Tensor inputIds, Tensor? attentionMask = null, OutputRequest request = OutputRequest.None);

    TorchSharp.torch.nn.Module Module { get; }
}
