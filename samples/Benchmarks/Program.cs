using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace RnaLm.Benchmarks;

/// <summary>
/// Runs the benchmarks in-process: BenchmarkDotNet's default out-of-process toolchain builds a child project that
/// skips Directory.Build.targets and so gets the unpatched TorchSharp native library (toolchain.md).
/// Usage: <c>dotnet run -c Release --project samples/Benchmarks -- --filter '*'</c>; the side-by-side comparison with
/// PyTorch (<c>benchmarks/side_by_side.py</c>) runs it with the commands of <see cref="SideBySide"/>; <c>-- rss</c>,
/// <c>-- forward-rate FASTA CHECKPOINT</c> and <c>-- load-memory CHECKPOINT FASTA</c>, <c>-- load-phases CHECKPOINT</c> run the measurements of <see cref="Measurements"/>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "write-checkpoint" or "forward") return SideBySide.Run(args);
        // Measurements outside BenchmarkDotNet (see Measurements.cs).
        if (args.Length > 0 && args[0] == "rss") return Measurements.ResidentMemory(args);
        if (args.Length > 0 && args[0] == "forward-rate") return Measurements.ForwardRate(args);
        if (args.Length > 0 && args[0] == "load-memory") return Measurements.LoadMemory(args);
        if (args.Length > 0 && args[0] == "load-phases") return Measurements.LoadPhases(args);
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
