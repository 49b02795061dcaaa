using System;
using RnaLm.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// The generated encoders' linear layer: PyTorch's <c>nn.Linear</c> (<c>y = x·Wᵀ + b</c> on the last dimension,
/// parameters <c>weight</c> [out, in] and <c>bias</c> [out], the same initialisation), whose inference runs on RnaLm's
/// own AVX-512 kernel where it applies and on libtorch everywhere else.
/// </summary>
/// <remarks>
/// <para>The kernel (<see cref="UsesKernel"/>) runs for float32 CPU tensors when no gradient is wanted (inference mode,
/// <c>no_grad</c>, or nothing involved requires one) on a processor with AVX-512F; training, other dtypes and devices,
/// and older processors use libtorch's <c>linear</c>. On AVX-512 processors that libtorch's bundled MKL does not give
/// its AVX-512 code path (AMD's), the kernel computes the encoders' products at about twice MKL's rate
/// (docs/benchmarks.md).</para>
/// <para>Each output element is the bias plus the products summed in blocks of 384 in order, whatever the batch and the
/// thread count, so a record's outputs are the same bits alone or in any batch. They differ from libtorch's in rounding
/// only (float32; the parity tests hold to 1e-5).</para>
/// <para>Setting <c>RNALM_LINEAR=libtorch</c> in the environment before the first layer runs turns the kernel off.</para>
/// </remarks>
public sealed class Dense : nn.Module<Tensor, Tensor>
{
    /// <summary>Environment variable that, set to <c>libtorch</c>, sends every layer to libtorch's <c>linear</c>.</summary>
    public const string Variable = "RNALM_LINEAR";

    private readonly Parameter weight;
    private readonly Parameter? bias;

    /// <param name="inFeatures">Size of the input's last dimension.</param>
    /// <param name="outFeatures">Size of the output's last dimension.</param>
    /// <param name="hasBias">Whether the layer adds a bias.</param>
    /// <remarks>Parameters are created on the default device (the meta device inside
    /// <see cref="Checkpoints.DeferredModules.BuildOnMeta{T}"/>) and initialised as <c>nn.Linear</c> does: weight and
    /// bias from U(−1/√in, 1/√in).</remarks>
    public Dense(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(Dense))
    {
        if (inFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "A linear layer needs at least one input feature.");
        if (outFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, "A linear layer needs at least one output feature.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1 / Math.Sqrt(inFeatures);
        using (no_grad())
        {
            weight = new Parameter(empty(outFeatures, inFeatures).uniform_(-bound, bound));
            if (hasBias) bias = new Parameter(empty(outFeatures).uniform_(-bound, bound));
        }
        RegisterComponents();
    }

    /// <summary>Whether layers whose tensors qualify run on RnaLm's kernel in this process.</summary>
    public static bool KernelEnabled { get; } = PackedSgemm.IsSupported
        && !string.Equals(Environment.GetEnvironmentVariable(Variable), "libtorch", StringComparison.OrdinalIgnoreCase);

    /// <summary>Size of the input's last dimension.</summary>
    public long InFeatures { get; }

    /// <summary>Size of the output's last dimension.</summary>
    public long OutFeatures { get; }

    /// <summary>[out, in].</summary>
    public Parameter Weight => weight;

    /// <summary>[out], or null.</summary>
    public Parameter? Bias => bias;

    /// <param name="input">[..., in].</param>
    /// <returns>[..., out].</returns>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return UsesKernel(input, weight, bias) ? Kernel(input, weight, bias) : nn.functional.linear(input, weight, bias);
    }

    /// <summary>Whether <see cref="forward"/> runs RnaLm's kernel for these tensors.</summary>
    /// <param name="input">[..., in].</param>
    /// <param name="weight">[out, in].</param>
    /// <param name="bias">[out], or null.</param>
    public static bool UsesKernel(Tensor input, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (!KernelEnabled) return false;
        if (input.device_type != DeviceType.CPU || weight.device_type != DeviceType.CPU) return false;
        if (input.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32) return false;
        if (weight.dim() != 2 || input.dim() < 1 || input.shape[^1] != weight.shape[1]) return false;
        if (bias is not null && (bias.device_type != DeviceType.CPU || bias.dtype != ScalarType.Float32
            || bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
        {
            return false;
        }
        long rows = input.numel() / Math.Max(1, input.shape[^1]);
        if (input.numel() == 0 || weight.numel() == 0) return false;
        // Spans over the tensors' data are int-sized in bytes.
        const long largest = int.MaxValue / sizeof(float);
        if (rows * weight.shape[1] > largest || rows * weight.shape[0] > largest || weight.numel() > largest) return false;
        if (is_grad_enabled() && (input.requires_grad || weight.requires_grad || (bias?.requires_grad ?? false))) return false;
        return true;
    }

    private static unsafe Tensor Kernel(Tensor input, Tensor weight, Tensor? bias)
    {
        int k = (int)weight.shape[1];
        int n = (int)weight.shape[0];
        int m = (int)(input.numel() / k);
        var shape = (long[])input.shape.Clone();
        shape[^1] = n;
        using var a = input.contiguous();
        using var w = weight.contiguous();
        using var b = bias?.contiguous();
        var output = empty(shape, ScalarType.Float32, CPU);
        fixed (byte* aBytes = a.bytes, wBytes = w.bytes, cBytes = output.bytes)
        {
            fixed (byte* biasBytes = b is null ? default : b.bytes)
            {
                PackedSgemm.Linear((float*)aBytes, (float*)wBytes, (float*)biasBytes, (float*)cBytes, m, n, k,
                    Math.Max(1, get_num_threads()));
            }
        }
        return output;
    }
}
