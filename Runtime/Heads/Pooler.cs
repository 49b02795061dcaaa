using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Heads;

/// <summary>BERT pooler: <c>tanh(dense(h[:, 0]))</c>. Keys <c>pooler.dense.{weight,bias}</c>.</summary>
public sealed class Pooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    public Pooler(long hiddenSize) : base("pooler")
    {
        dense = nn.Linear(hiddenSize, hiddenSize);
        RegisterComponents();
    }

    /// <param name="hiddenStates">[B, L, H].</param>
    /// <returns>[B, H].</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var first = hiddenStates.select(1, 0); // [B, H]
        return dense.call(first).tanh().MoveToOuterDisposeScope();
    }
}
