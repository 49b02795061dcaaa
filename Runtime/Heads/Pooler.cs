using System;
using RnaLm.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>
/// BERT pooler: <c>act(dense(h[:, 0]))</c>, tanh unless the family says otherwise (models.md §1.7). Keys
/// <c>pooler.dense.{weight,bias}</c>.
/// </summary>
public sealed class Pooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Func<Tensor, Tensor> _activation;

    /// <param name="hiddenSize">H.</param>
    /// <param name="activation">Activation applied to the dense output, by its <c>hidden_act</c> name (<see cref="Activations.Known"/>).</param>
    /// <exception cref="ArgumentException">The activation is not known.</exception>
    public Pooler(long hiddenSize, string activation = "tanh") : base("pooler")
    {
        dense = nn.Linear(hiddenSize, hiddenSize);
        _activation = Activations.Resolve(activation, "pooler activation");
        RegisterComponents();
    }

    /// <param name="hiddenStates">[B, L, H].</param>
    /// <returns>[B, H].</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var first = hiddenStates.select(1, 0); // [B, H]
        return _activation(dense.call(first)).MoveToOuterDisposeScope();
    }
}
