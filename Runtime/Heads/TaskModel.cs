using System;
using static TorchSharp.torch;

namespace RnaLm.Models;

/// <summary>Number of labels of the three generic task heads.</summary>
public sealed record TaskHeadOptions(int SequenceLabels = 1, int TokenLabels = 1, int ContactLabels = 1);

/// <summary>Logits of the generic task heads.</summary>
public sealed class TaskOutput : IDisposable
{
    public TaskOutput(Tensor sequenceLogits, Tensor tokenLogits, Tensor contactLogits, BackboneOutput backbone)
    {
        SequenceLogits = sequenceLogits;
        TokenLogits = tokenLogits;
        ContactLogits = contactLogits;
        Backbone = backbone;
    }

    /// <summary>[B, sequence labels], from the pooler output.</summary>
    public Tensor SequenceLogits { get; }

    /// <summary>[B, L', token labels], special tokens removed.</summary>
    public Tensor TokenLogits { get; }

    /// <summary>[B, L', L', contact labels], special tokens removed, symmetric.</summary>
    public Tensor ContactLogits { get; }

    public BackboneOutput Backbone { get; }

    public TaskOutput MoveToOuterDisposeScope()
    {
        SequenceLogits.MoveToOuterDisposeScope();
        TokenLogits.MoveToOuterDisposeScope();
        ContactLogits.MoveToOuterDisposeScope();
        Backbone.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        SequenceLogits.Dispose();
        TokenLogits.Dispose();
        ContactLogits.Dispose();
        Backbone.Dispose();
    }
}

/// <summary>A backbone (with pooler) plus sequence, token and contact prediction heads.</summary>
public interface IRnaTaskModel
{
    IRnaBackbone Backbone { get; }

    TaskOutput Forward(Tensor inputIds, Tensor? attentionMask = null, OutputRequest request = OutputRequest.None);

    TorchSharp.torch.nn.Module Module { get; }
}
