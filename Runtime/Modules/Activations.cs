using System;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>Activation functions by their Hugging Face <c>hidden_act</c> names.</summary>
public static class Activations
{
    /// <summary>Names accepted by <see cref="Resolve"/>.</summary>
    public static readonly string[] Known = { "gelu", "gelu_new", "relu", "silu", "tanh" };

    /// <summary>Returns the activation called <paramref name="name"/>: <c>gelu</c> is the exact erf GELU, <c>gelu_new</c> the tanh approximation.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Known"/>; the message names the setting.</exception>
    public static Func<Tensor, Tensor> Resolve(string name, string setting = "hidden_act") => name switch
    {
        "gelu" => static x => nn.functional.gelu(x),
        "gelu_new" => static x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "relu" => static x => nn.functional.relu(x),
        "silu" => static x => nn.functional.silu(x),
        "tanh" => static x => x.tanh(),
        _ => throw new ArgumentException($"{setting} '{name}' is not a supported activation (supported: {string.Join(", ", Known)})."),
    };
}
