using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// Every slot and every kind that can fill it: one line per kind. Adding a kind is one type, one template
/// (<c>Templates/&lt;folder&gt;/&lt;name&gt;.sbncs</c>), one line here and one section of docs/spec.md (docs/extending.md).
/// </summary>
internal static class KindRegistry
{
    public static readonly Slot Norm = new("norm", "norm", "The normalisation of every layer, the embeddings and the final norm.", "layer_norm", ImmutableArray.Create<Kind>(
        new LayerNormKind(),
        new RmsNormKind()));

    public static readonly Slot Layer = new("layer", "layer", "The order of norms and residuals in a transformer layer.", "post_norm", ImmutableArray.Create<Kind>(
        new PostNormLayerKind(),
        new PreNormLayerKind(),
        new PreNormNormedResidualLayerKind()));

    public static readonly Slot Position = new("position", "position", "Where positional information enters the model.", null, ImmutableArray.Create<Kind>(
        new LearnedPositionKind(),
        new OffsetLearnedPositionKind(),
        new SinusoidalPositionKind(),
        new RotaryPositionKind(),
        new NoPositionKind()));

    public static readonly Slot Softmax = new("attention.softmax", "softmax", "How attention scores become probabilities and how padding is masked.", "keys", ImmutableArray.Create<Kind>(
        new KeysSoftmaxKind(),
        new QueriesSoftmaxKind()));

    public static readonly Slot AttentionBias = new("attention.biases", "attention_bias", "Biases added to the attention scores (an object keyed by kind).", null, ImmutableArray.Create<Kind>(
        new PairPriorBiasKind()));

    public static readonly Slot FeedForward = new("feed_forward", "feed_forward", "The feed-forward block of a layer.", "mlp", ImmutableArray.Create<Kind>(
        new MlpFeedForwardKind(),
        new GatedFeedForwardKind(),
        new FusedGatedFeedForwardKind()));

    public static readonly Slot Segmentation = new("tokenizer.segmentation", "segmentation", "How the tokenizer cuts text into tokens.", "single", ImmutableArray.Create<Kind>(
        new SingleSegmentationKind(),
        new KmerSegmentationKind(),
        new CodonSegmentationKind()));

    public static readonly Slot PretrainingHead = new("pretraining_heads", "pretraining_head", "Heads the pre-training checkpoints hold besides the MLM head (an object keyed by module name).", null, ImmutableArray.Create<Kind>(
        new ContactAttentionHeadKind(),
        new TokenHeadKind(),
        new SequenceHeadKind(),
        new MaskedLmHeadKind()));

    /// <summary>Every slot, in documentation order.</summary>
    public static readonly ImmutableArray<Slot> Slots = ImmutableArray.Create(Norm, Layer, Position, Softmax, AttentionBias, FeedForward, Segmentation, PretrainingHead);

    private static readonly ImmutableDictionary<string, Slot> ByPath = Build();

    public static Slot Slot(string path) =>
        ByPath.TryGetValue(path, out var slot) ? slot : throw new InvalidOperationException("no slot '" + path + "'");

    private static ImmutableDictionary<string, Slot> Build()
    {
        var builder = ImmutableDictionary.CreateBuilder<string, Slot>(StringComparer.Ordinal);
        foreach (var slot in Slots) builder.Add(slot.Path, slot);
        return builder.ToImmutable();
    }
}
