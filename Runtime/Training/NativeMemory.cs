using System;
using System.Runtime.InteropServices;

namespace RnaLm.Training;

/// <summary>
/// Keeps the native heap from growing during training on Linux/glibc. Training allocates activation tensors of a
/// different size at every step (sequence lengths vary); glibc raises its mmap threshold after freeing large blocks,
/// so later blocks come from the heap, which fragments and is not returned to the system: the resident size then
/// grows by megabytes a step although nothing leaks. Fixing the threshold (128 KiB, glibc's initial value) keeps
/// large tensors in their own mappings, returned on free, and the resident size flat.
/// </summary>
public static partial class NativeMemory
{
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD
    private static int _applied;

    /// <summary>Applies the fixed mmap threshold once per process (no-op elsewhere than glibc). Returns whether it is active.</summary>
    public static bool KeepHeapFlat()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (System.Threading.Interlocked.Exchange(ref _applied, 1) == 1) return true;
        try
        {
            return mallopt(MmapThresholdParameter, 128 * 1024) == 1;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int parameter, int value);
}
