using System;
using System.CommandLine;
using System.Globalization;
using RnaLm.Native;
using RnaLm.Training;
using TorchSharp;

namespace RnaLm.Cli;

/// <summary>
/// Process-wide TorchSharp settings, applied before a model runs: the number of CPU threads and the native-memory
/// policy (<see cref="NativeMemory.KeepHeapFlat"/>) that every command running a model shares.
/// </summary>
internal static class TorchSetup
{
    /// <summary>Environment variable with the default thread count (before <c>OMP_NUM_THREADS</c>).</summary>
    public const string ThreadsVariable = "RNALM_THREADS";

    private static readonly Lazy<torch.Device> Initialized = new(() =>
    {
        LibTorch.Load();
        NativeMemory.KeepHeapFlat();
        try
        {
            // No inter-op parallelism is used; one pool of intra-op threads is all the work needs.
            torch.set_num_interop_threads(1);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // libtorch refuses once parallel work has started; the intra-op count below still applies.
        }
        return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
    });

    /// <summary>Threads for the next command (<c>--threads</c>, else <see cref="DefaultThreads"/>).</summary>
    public static int Threads { get; set; } = DefaultThreads();

    /// <summary>
    /// The default thread count: <c>RNALM_THREADS</c>, else <c>OMP_NUM_THREADS</c>, else one less than the processors
    /// this process may use (at least 1), leaving a core to the rest of a shared machine; oversubscribed libtorch
    /// threads slow down by an order of magnitude when another process competes for every core.
    /// </summary>
    public static int DefaultThreads()
    {
        foreach (string variable in new[] { ThreadsVariable, "OMP_NUM_THREADS" })
        {
            string? text = Environment.GetEnvironmentVariable(variable);
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 1)
            {
                return value;
            }
        }
        return Math.Max(1, Environment.ProcessorCount - 1);
    }

    /// <summary>The <c>--threads</c> option, on the root command and every subcommand.</summary>
    public static Option<int?> ThreadsOption() => new("--threads")
    {
        Description = $"CPU threads for the model (default: ${ThreadsVariable}, else $OMP_NUM_THREADS, else one less than the processors, at least 1).",
        HelpName = "N",
        Recursive = true,
        CustomParser = OptionParsers.OptionalAtLeast("--threads", 1),
    };

    /// <summary>
    /// Loads libtorch (a failure names the library and the loader's reason) and applies the settings (the memory policy
    /// once, the thread count every time); returns the device to run on (CUDA when present, else CPU).
    /// </summary>
    public static torch.Device Device
    {
        get
        {
            var device = Initialized.Value;
            if (torch.get_num_threads() != Threads) torch.set_num_threads(Threads);
            return device;
        }
    }
}
