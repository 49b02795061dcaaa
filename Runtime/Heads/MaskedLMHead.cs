using System;
using RnaLm.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>The "nonlinear" head transform: dense (H → H), activation, LayerNorm. Keys <c>transform.dense</c>, <c>transform.layer_norm</c>.</summary>
public sealed class HeadTransform : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm layer_norm;
    private readonly Func<Tensor, Tensor> _activation;

    public HeadTransform(long hiddenSize, string activation, double layerNormEps) : base("transform")
    {
        dense = nn.Linear(hiddenSize, hiddenSize);
        layer_norm = nn.LayerNorm(hiddenSize, layerNormEps);
        _activation = Activations.Resolve(activation, "lm_head.transform_act");
        RegisterComponents();
    }

    /// <param name="x">[B, L, H].</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return layer_norm.call(_activation(dense.call(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Masked-language-model head: transform, then <c>logits = t·Eᵀ + b</c>. With tying, <c>decoder.weight</c> is the
/// word-embedding matrix itself and <c>decoder.bias</c> is <c>bias</c> (models.md §1.7).
/// </summary>
public sealed class MaskedLMHead : nn.Module<Tensor, Tensor>
{
    private readonly HeadTransform transform;
    private readonly Linear decoder;
    private readonly Parameter bias;

    /// <param name="hiddenSize">H.</param>
    /// <param name="vocabSize">V.</param>
    /// <param name="transformActivation">Activation of the transform (<c>lm_head.transform_act</c>).</param>
    /// <param name="layerNormEps">Epsilon of the transform LayerNorm.</param>
    /// <param name="tiedWeight">The word-embedding weight [V, H] to share, or null for an untied decoder.</param>
    public MaskedLMHead(long hiddenSize, long vocabSize, string transformActivation, double layerNormEps, Parameter? tiedWeight)
        : base("lm_head")
    {
        transform = new HeadTransform(hiddenSize, transformActivation, layerNormEps);
        decoder = nn.Linear(hiddenSize, vocabSize);
        if (tiedWeight is not null)
        {
            if (tiedWeight.shape.Length != 2 || tiedWeight.shape[0] != vocabSize || tiedWeight.shape[1] != hiddenSize)
            {
                throw new ArgumentException($"The tied word-embedding weight has shape [{string.Join(", ", tiedWeight.shape)}], expected [{vocabSize}, {hiddenSize}].");
            }
            decoder.weight = tiedWeight;
        }
        bias = decoder.bias!;
        RegisterComponents();
    }

    /// <param name="hiddenStates">[B, L, H].</param>
    /// <returns>[B, L, V].</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        return decoder.call(transform.call(hiddenStates)).MoveToOuterDisposeScope();
    }
}
