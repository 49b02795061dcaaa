using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>
/// MultiMolecule's contact head on attention maps (<c>ss_head</c> of the RNA-FM and UTR-LM pre-training models,
/// families-esm.md §0 "ContactAttentionHead"): the N layers' post-softmax attention maps are stacked layer-major
/// into N·h channels, moved last (B, L, L, N·h), special tokens are removed in 2-D
/// (<see cref="SpecialTokens.Remove2D"/>, which also applies the pair mask), the map is symmetrised
/// <c>(x + xᵀ)/2</c>, the <c>decoder</c> Linear(N·h → labels) is applied and the result symmetrised again. Unlike
/// ESM's contact head there is no average-product correction and no sigmoid: the outputs are logits. Keys
/// <c>&lt;name&gt;.decoder.weight</c> [labels, N·h] and <c>&lt;name&gt;.decoder.bias</c> [labels].
/// </summary>
public sealed class ContactAttentionHead : nn.Module
{
    private readonly Linear decoder;
    private readonly long _channels;
    private readonly long? _bos;
    private readonly long? _eos;

    /// <param name="channels">N·h, the number of attention maps (layers × heads).</param>
    /// <param name="numLabels">Outputs per token pair (1 in the published checkpoints).</param>
    /// <param name="bosTokenId">&lt;cls&gt; id (removed), or null.</param>
    /// <param name="eosTokenId">&lt;eos&gt; id (removed), or null.</param>
    /// <param name="name">Module name, the field name of the head in its parent.</param>
    public ContactAttentionHead(long channels, long numLabels, long? bosTokenId, long? eosTokenId, string name = "ss_head")
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        decoder = nn.Linear(channels, numLabels);
        _channels = channels;
        _bos = bosTokenId;
        _eos = eosTokenId;
        RegisterComponents();
    }

    /// <summary>N·h, the number of input channels.</summary>
    public long Channels => _channels;

    /// <param name="attentions">The post-softmax attention maps of the N layers in order, each [B, h, L, L].</param>
    /// <param name="inputIds">[B, L].</param>
    /// <param name="attentionMask">[B, L].</param>
    /// <returns>Symmetric logits [B, L', L', labels] (L' = L without the removed special tokens); pairs with a padded
    /// or removed token get <c>decoder.bias</c>.</returns>
    /// <exception cref="ArgumentException">No maps are given, or they hold a number of channels other than <see cref="Channels"/>.</exception>
    public Tensor Forward(IReadOnlyList<Tensor> attentions, Tensor inputIds, Tensor attentionMask)
    {
        ArgumentNullException.ThrowIfNull(attentions);
        if (attentions.Count == 0) throw new ArgumentException("The contact attention head needs the attention maps of at least one layer.", nameof(attentions));
        long channels = 0;
        foreach (var map in attentions) channels += map.shape[1];
        if (channels != _channels)
        {
            throw new ArgumentException(
                $"The contact attention head was built for {_channels} attention maps (layers × heads) but got {attentions.Count} layers with {channels} heads in all.",
                nameof(attentions));
        }

        using var scope = NewDisposeScope();
        var stacked = cat([.. attentions], 1);                                                    // [B, N·h, L, L] layer-major
        var pairs = stacked.permute(0, 2, 3, 1);                                                  // [B, L, L, N·h]
        var (trimmed, _, _) = SpecialTokens.Remove2D(pairs, inputIds, attentionMask, _bos, _eos); // [B, L', L', N·h]
        var symmetric = (trimmed + trimmed.transpose(1, 2)) / 2;
        var logits = decoder.call(symmetric);                                                     // [B, L', L', labels]
        logits = (logits + logits.transpose(1, 2)) / 2;
        return logits.MoveToOuterDisposeScope();
    }
}
