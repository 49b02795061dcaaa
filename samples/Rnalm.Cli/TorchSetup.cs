using System;
using RnaLm.Native;
using TorchSharp;

namespace RnaLm.Cli;

/// <summary>Process-wide TorchSharp settings, applied once before the first model runs.</summary>
internal static class TorchSetup
{
    private static readonly Lazy<torch.Device> Initialized = new(() =>
    {
        LibTorch.Load();
        torch.set_num_threads(Environment.ProcessorCount);
        return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
    });

    /// <summary>
    /// Loads libtorch (a failure names the library and the loader's reason), sets the thread count on first use and
    /// returns the device to run on (CUDA when present, else CPU).
    /// </summary>
    public static torch.Device Device => Initialized.Value;
}
