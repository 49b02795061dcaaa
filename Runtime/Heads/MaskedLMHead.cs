using System;
using RnaLm.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>
/// A head transform (MultiMolecule HeadConfig.transform): "nonlinear" = dense (H → H), activation, LayerNorm;
/// "linear" = dense, LayerNorm. Keys <c>transform.dense</c>, <c>transform.layer_norm</c>.
/// </summary>
public sealed class HeadTransform : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm layer_norm;
    private readonly Func<Tensor, Tensor>? _activation;

    /// <param name="hiddenSize">H.</param>
    /// <param name="activation">The activation of a "nonlinear" transform, or null for "linear".</param>
    /// <param name="layerNormEps">LayerNorm epsilon.</param>
    public HeadTransform(long hiddenSize, string? activation, double layerNormEps) : base("transform")
    {
        dense = nn.Linear(hiddenSize, hiddenSize);
        layer_norm = nn.LayerNorm(hiddenSize, layerNormEps);
        _activation = activation is null ? null : Activations.Resolve(activation, "transform_act");
        RegisterComponents();
    }

    /// <summary>The transform a head config names: "none" → null, "linear", "nonlinear".</summary>
    public static HeadTransform? Create(string transform, long hiddenSize, string activation, double layerNormEps) => transform switch
    {
        "none" or "identity" => null,
        "linear" => new HeadTransform(hiddenSize, null, layerNormEps),
        "nonlinear" => new HeadTransform(hiddenSize, activation, layerNormEps),
        _ => throw new ArgumentException($"Head transform '{transform}' is not one of none, linear, nonlinear."),
    };

    /// <param name="x">[…, H].</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = dense.call(x);
        if (_activation is not null) h = _activation(h);
        return layer_norm.call(h).MoveToOuterDisposeScope();
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
    private readonly bool _tied;

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
            _tied = true;
        }
        bias = decoder.bias!;
        RegisterComponents();
    }

    /// <summary>
    /// BERT-style initialisation of the head: transform from N(0, <paramref name="std"/>), output bias zero; the decoder
    /// weight only when it is not tied (a tied one is the word-embedding matrix, initialised with the backbone).
    /// </summary>
    public void InitializeWeights(double std)
    {
        WeightInit.Apply(transform, std);
        using var noGrad = no_grad();
        bias.zero_();
        if (!_tied) decoder.weight!.normal_(0, std);
    }

    /// <param name="hiddenStates">[B, L, H].</param>
    /// <returns>[B, L, V].</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        return decoder.call(transform.call(hiddenStates)).MoveToOuterDisposeScope();
    }
}
