using System;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Models;
using RnaLm.Training;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// Transparent huge pages for a loaded model's weights: the block <see cref="DeferredModules.Materialize"/> carves the
/// weights from lies in a mapping the kernel may back with 2 MiB pages, so a full-size load faults in a few hundred
/// huge pages instead of ~100,000 small ones.
/// </summary>
public sealed class HugePageTests
{
    /// <summary>The kernel's transparent-huge-page mode (the bracketed word), or null where there is none.</summary>
    private static string? Mode()
    {
        const string path = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (!File.Exists(path)) return null;
        string text = File.ReadAllText(path);
        int open = text.IndexOf('['), close = text.IndexOf(']');
        return open >= 0 && close > open ? text[(open + 1)..close] : null;
    }

    [Fact]
    public void AMaterializedFullSizeModelsWeightsMayUseHugePages()
    {
        string? mode = Mode();
        if (mode is null or "never") return; // no huge pages on this kernel: nothing to ask for
        var variant = ModelCatalog.Registry.GetVariant("splicebert"); // published size, 19.7 M parameters
        var model = DeferredModules.BuildOnMeta(() => variant.Family.CreatePreTrainingModel(variant.Config));
        using var module = model.Module;
        DeferredModules.Materialize(module, CPU);
        // A parameter halfway through the block (tens of MB from its ends, which may fall outside whole huge pages).
        var parameters = module.parameters().ToList();
        using var middle = parameters[parameters.Count / 2].flatten().narrow(0, 0, 1);
        Assert.True(NativeMemory.HugePageEligible(NativeMemory.DataAddress(middle)),
            $"the weights' mapping is not eligible for huge pages (kernel mode {mode})");
    }

    [Fact]
    public void OnlyAdvisedMemoryIsEligibleWhenTheKernelAsksForAdvice()
    {
        if (Mode() != "madvise") return; // under "always" every mapping is eligible, under "never" none
        using var advised = empty(new long[] { 8 << 20 }, ScalarType.Float32);   // 32 MiB: a mapping of its own
        using var plain = empty(new long[] { 8 << 20 }, ScalarType.Float32);
        var address = NativeMemory.DataAddress(advised);
        bool before = NativeMemory.HugePageEligible(address);
        Assert.True(NativeMemory.AdviseHugePages(address, 32L << 20));
        Assert.True(NativeMemory.HugePageEligible(address + (16 << 20)), "the advised range is not eligible");
        // The plain tensor is eligible only if libtorch already advised its large allocations (THP_MEM_ALLOC_ENABLE).
        bool plainEligible = NativeMemory.HugePageEligible(NativeMemory.DataAddress(plain));
        Assert.Equal(before, plainEligible);
    }
}
