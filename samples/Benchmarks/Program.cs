using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace RnaLm.Benchmarks;

/// <summary>
/// Runs the benchmarks in-process: BenchmarkDotNet's default out-of-process toolchain builds a child project that
/// skips Directory.Build.targets and so gets the unpatched TorchSharp native library (toolchain.md).
/// Usage: <c>dotnet run -c Release --project samples/Benchmarks -- --filter '*'</c>; <c>-- rss</c> and
/// <c>-- forward-rate FASTA CHECKPOINT</c> run the measurements of <see cref="Measurements"/>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // Measurements outside BenchmarkDotNet (see Measurements.cs): `rss` and `forward-rate`.
        if (args.Length > 0 && args[0] == "rss")
        {
            Measurements.ResidentMemory(args);
            return;
        }
        if (args.Length > 0 && args[0] == "forward-rate")
        {
            Measurements.ForwardRate(args);
            return;
        }
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
