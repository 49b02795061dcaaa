using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Models;
using RnaLm.Modules;
using RnaLm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Benchmarks;

/// <summary>
/// The TorchSharp side of benchmarks/side_by_side.py: processes the driver starts and times, alternating with the
/// PyTorch side (benchmarks/torch_forward.py) on the same checkpoint folders.
/// <list type="bullet">
/// <item><c>write-checkpoint VARIANT DIR</c>: a checkpoint folder of the variant at its published size with random
/// weights (seed 1).</item>
/// <item><c>forward DIR BATCH LENGTH REPEATS</c>: loads DIR, runs one warm-up and REPEATS masked-LM forwards of a fixed
/// input under inference mode, and prints one JSON line: the median seconds, the FLOPs of one forward, a checksum of the
/// logits (for the driver to compare with PyTorch's), the set-up time and this process's fp32 2048² product rates (through the projections' path, and libtorch's own).</item>
/// </list>
/// Threads: <c>RNALM_BENCH_THREADS</c> (default 2) for intra-op, 1 inter-op. Native memory: the policy every rnalm
/// command applies (<see cref="NativeMemory.KeepHeapFlat"/>), unless <c>RNALM_BENCH_MALLOC=glibc</c> asks for glibc's defaults.
/// </summary>
public static class SideBySide
{
    public static int Run(string[] args)
    {
        // Before any tensor exists: libtorch reads its huge-page switch at its first allocation.
        if (Environment.GetEnvironmentVariable("RNALM_BENCH_MALLOC") != "glibc") NativeMemory.KeepHeapFlat();
        int threads = int.Parse(Environment.GetEnvironmentVariable("RNALM_BENCH_THREADS") ?? "2", CultureInfo.InvariantCulture);
        torch.set_num_threads(threads);
        switch (args[0])
        {
            case "write-checkpoint":
            {
                var variant = ModelCatalog.Registry.GetVariant(args[1]);
                manual_seed(1);
                var model = variant.Family.CreatePreTrainingModel(variant.Config);
                Directory.CreateDirectory(args[2]);
                CheckpointWriter.SaveModelFiles(args[2], variant.Config, variant.CreateTokenizer(), model.Module, variant.Family.Naming);
                Console.WriteLine($"{args[1]} -> {args[2]}");
                return 0;
            }
            case "forward":
            {
                string dir = args[1];
                int batch = int.Parse(args[2], CultureInfo.InvariantCulture), length = int.Parse(args[3], CultureInfo.InvariantCulture);
                int repeats = int.Parse(args[4], CultureInfo.InvariantCulture);
                var setup = Stopwatch.StartNew();
                using var checkpoint = Checkpoint.Load(dir, ModelCatalog.Registry);
                double setupSeconds = setup.Elapsed.TotalSeconds;
                using var ids = FixedInput(batch, length);
                using var mask = ones_like(ids);
                var times = new double[repeats];
                double checksum = 0;
                using (inference_mode())
                {
                    for (int r = -1; r < repeats; r++)
                    {
                        var watch = Stopwatch.StartNew();
                        using var output = checkpoint.Model.Forward(ids, mask);
                        if (r < 0) checksum = output.Logits.abs().sum().item<float>();
                        else times[r] = watch.Elapsed.TotalSeconds;
                    }
                }
                long flops = checked(checkpoint.Config.ForwardFlops(length) * batch);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"engine\":\"torchsharp\",\"median_s\":{Median(times):R},\"times\":[{string.Join(",", times.Select(t => t.ToString("R", CultureInfo.InvariantCulture)))}],\"flops\":{flops},\"checksum\":{checksum:R},\"setup_s\":{setupSeconds:R},\"matmul_gflops\":{ProjectionRate():R},\"libtorch_matmul_gflops\":{MatmulRate():R},\"projection_kernel\":{(Dense.KernelEnabled ? "true" : "false")},\"threads\":{get_num_threads()},\"memory_policy\":\"{NativeMemory.Active}\"}}"));
                return 0;
            }
            default:
                Console.Error.WriteLine($"unknown side-by-side command '{args[0]}'");
                return 2;
        }
    }

    /// <summary>The input both engines use: ids 6..9 (nucleotides) in a fixed pattern, with &lt;cls&gt; first and &lt;eos&gt; last.</summary>
    private static Tensor FixedInput(int batch, int length)
    {
        var ids = (arange(batch * length, ScalarType.Int64) * 7 % 4 + 6).view(batch, length);
        ids[.., 0] = 1;
        ids[.., length - 1] = 2;
        return ids;
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// GFLOP/s of a 2048×2048 fp32 product through a <see cref="Dense"/> layer, the path the models' projections take
    /// (RnaLm's kernel where it runs, else libtorch): the best of 8 after a warm-up.
    /// </summary>
    private static double ProjectionRate()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var layer = new Dense(2048, 2048, hasBias: false);
        var input = randn(2048, 2048);
        double best = double.MaxValue;
        for (int r = -1; r < 8; r++)
        {
            var watch = Stopwatch.StartNew();
            layer.call(input).Dispose();
            if (r >= 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * 2048 * 2048 * 2048 / best / 1e9;
    }

    /// <summary>
    /// GFLOP/s of a 2048×2048 fp32 product into preallocated memory in this process: the best of 8 after a warm-up, so
    /// neither the allocation of the result nor a moment of load elsewhere on the machine lowers the rate.
    /// </summary>
    private static double MatmulRate()
    {
        using var a = randn(2048, 2048);
        using var b = randn(2048, 2048);
        using var c = empty(2048, 2048);
        double best = double.MaxValue;
        for (int r = -1; r < 8; r++)
        {
            var watch = Stopwatch.StartNew();
            c.addmm_(a, b, beta: 0);
            if (r >= 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * 2048 * 2048 * 2048 / best / 1e9;
    }
}
