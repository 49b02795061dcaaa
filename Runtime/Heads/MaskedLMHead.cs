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
/// Masked-language-model head (models.md §1.7): transform, then <c>logits = t·Wᵀ + b</c>. With tying, <c>decoder.weight</c>
/// is the word-embedding matrix itself; otherwise the decoder owns its matrix (RiNALMo, RNABERT, families-bert2.md §1.6,
/// §3.5). The output bias is the parameter <c>bias</c>, which is also the decoder's <c>decoder.bias</c>; without a bias
/// neither key exists. Keys (relative to the head): <c>bias</c>, <c>transform.dense.*</c>, <c>transform.layer_norm.*</c>,
/// <c>decoder.weight</c>, <c>decoder.bias</c>. The class also serves MLM-style heads with other names and output sizes,
/// such as RNABERT's <c>ss_head</c> (8 outputs, untied; families-bert2.md §3.4).
/// </summary>
public sealed class MaskedLMHead : nn.Module<Tensor, Tensor>
{
    private readonly HeadTransform transform;
    private readonly Linear decoder;
    private readonly Parameter? bias;
    private readonly bool _tied;

    /// <param name="hiddenSize">H.</param>
    /// <param name="vocabSize">V, the number of outputs.</param>
    /// <param name="transformActivation">Activation of the transform (<c>lm_head.transform_act</c>).</param>
    /// <param name="layerNormEps">Epsilon of the transform LayerNorm.</param>
    /// <param name="tiedWeight">The word-embedding weight [V, H] to share, or null for an untied decoder.</param>
    /// <param name="bias">Whether the logits have an output bias (<c>bias</c> = <c>decoder.bias</c>).</param>
    /// <param name="name">Module name, the field name of the head in its parent (<c>lm_head</c>, <c>ss_head</c>).</param>
    /// <exception cref="ArgumentException">The tied weight does not have shape [V, H], or the activation is not known.</exception>
    public MaskedLMHead(long hiddenSize, long vocabSize, string transformActivation, double layerNormEps, Parameter? tiedWeight,
        bool bias = true, string name = "lm_head")
        : base(name)
    {
        transform = new HeadTransform(hiddenSize, transformActivation, layerNormEps);
        decoder = nn.Linear(hiddenSize, vocabSize, hasBias: bias);
        if (tiedWeight is not null)
        {
            if (tiedWeight.shape.Length != 2 || tiedWeight.shape[0] != vocabSize || tiedWeight.shape[1] != hiddenSize)
            {
                throw new ArgumentException($"The tied word-embedding weight has shape [{string.Join(", ", tiedWeight.shape)}], expected [{vocabSize}, {hiddenSize}].");
            }
            decoder.weight = tiedWeight;
            _tied = true;
        }
        this.bias = bias ? decoder.bias! : null;
        RegisterComponents();
    }

    /// <summary>Whether the head has an output bias.</summary>
    public bool HasBias => bias is not null;

    /// <summary>
    /// BERT-style initialisation of the head: transform from N(0, <paramref name="std"/>), output bias zero; the decoder
    /// weight only when it is not tied (a tied one is the word-embedding matrix, initialised with the backbone).
    /// </summary>
    public void InitializeWeights(double std)
    {
        WeightInit.Apply(transform, std);
        using var noGrad = no_grad();
        bias?.zero_();
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
