using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// Root-mean-square normalisation over the last dimension, as PyTorch's <c>nn.RMSNorm</c> with an elementwise
/// affine weight: <c>y = x · rsqrt(mean(x², −1) + eps) · weight</c>. Float32 and float64 inputs are computed in
/// their own dtype; float16/bfloat16 inputs are normalised in float32 and cast back before the weight, as PyTorch
/// does. The only parameter is <c>weight</c> [size] (initialised to ones); the module's own key is the parent's field.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    /// <param name="size">Size of the normalised (last) dimension.</param>
    /// <param name="eps">Added to the mean square before the reciprocal square root.</param>
    public RmsNorm(long size, double eps) : base(nameof(RmsNorm))
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "The normalised size must be positive.");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a non-negative number.");
        weight = new Parameter(ones(size));
        _eps = eps;
        RegisterComponents();
    }

    /// <summary>The epsilon added to the mean square.</summary>
    public double Eps => _eps;

    /// <param name="x">[…, size].</param>
    /// <returns>[…, size], the dtype of <paramref name="x"/>.</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        bool upcast = x.dtype is ScalarType.Float16 or ScalarType.BFloat16;
        var input = upcast ? x.to_type(ScalarType.Float32) : x;
        var inverse = input.pow(2).mean(new long[] { -1 }, keepdim: true).add(_eps).rsqrt(); // […, 1]
        var normalised = input.mul(inverse);
        if (upcast) normalised = normalised.to_type(x.dtype);
        return normalised.mul(weight).MoveToOuterDisposeScope();
    }
}
