using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>What <see cref="NativeMemory.KeepHeapFlat"/> put in place.</summary>
public enum NativeMemoryPolicy
{
    /// <summary>Nothing (not Linux/glibc, or not applied yet): the allocator's defaults.</summary>
    None,

    /// <summary>
    /// glibc's mmap threshold fixed at <see cref="NativeMemory.MmapThreshold"/> (32 MiB): tensors below it come from
    /// the heap and are reused, larger ones are mappings returned on free.
    /// </summary>
    FixedThreshold,

    /// <summary>
    /// Tensors of <see cref="NativeMemory.LargeTensorBytes"/> (2 MiB) and more are mappings of their own backed by
    /// transparent huge pages (libtorch's <c>THP_MEM_ALLOC_ENABLE</c>) and returned on free; smaller ones come from
    /// the heap.
    /// </summary>
    HugePagesForLargeTensors,
}

/// <summary>
/// Keeps the native heap of a long-running process flat on Linux/glibc without making tensor allocation slow.
/// glibc starts with a 128 KiB mmap threshold and raises it to the size of each large block freed, so which tensors
/// come from the heap changes as a run goes on: the heap fragments and the resident size wanders upwards although
/// nothing leaks. A fixed threshold settles that from the first step. The heap is then never trimmed: glibc would
/// return its free top after every forward and fault the same pages in again on the next (on a virtual machine, where a
/// page fault costs ~10 µs, that was 40% of a SpliceBERT 1 × 128 forward); kept, it stays at the small tensors'
/// high-water mark. Where the kernel offers transparent huge pages, every tensor of 2 MiB or more gets a mapping of its
/// own backed by 2 MiB pages: it is returned to the system when freed, so the heap holds only small tensors and cannot
/// fragment around large ones (a forward's resident peak is then close to what it really holds), and a fresh mapping
/// faults in 2 MiB at a time, which costs about as much as reusing heap memory. Without huge pages, fresh mappings
/// fault in 4 KiB at a time on every forward (a 1 × 128 RNAErnie forward 40% slower), so the threshold is then fixed at
/// glibc's maximum, 32 MiB, instead.
/// </summary>
public static partial class NativeMemory
{
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD
    private const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD
    /// <summary>Free memory at the top of the heap that glibc may keep before returning it: in practice, all of it.</summary>
    public const int TrimThreshold = 1 << 30;
    /// <summary>The fixed mmap threshold without huge pages: glibc's upper limit on 64-bit systems.</summary>
    public const int MmapThreshold = 32 * 1024 * 1024;
    /// <summary>The size from which tensors get their own huge-page mapping (libtorch's huge-page threshold).</summary>
    public const int LargeTensorBytes = 2 * 1024 * 1024;
    /// <summary>libtorch's switch for huge pages on its CPU allocations of 2 MiB and more, read once at its first allocation.</summary>
    public const string LibTorchHugePagesVariable = "THP_MEM_ALLOC_ENABLE";
    private static int _applied;

    /// <summary>The policy in place in this process.</summary>
    public static NativeMemoryPolicy Active { get; private set; }

    /// <summary>
    /// Applies the policy once per process (no-op elsewhere than Linux/glibc): huge-page mappings for large tensors
    /// when libtorch and the kernel provide them, else the fixed 32 MiB threshold. Call it before the first tensor is
    /// allocated: libtorch reads its huge-page switch only then. <c>THP_MEM_ALLOC_ENABLE=0</c> in the environment keeps
    /// huge pages off. Returns whether a policy is active.
    /// </summary>
    public static bool KeepHeapFlat()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (System.Threading.Interlocked.Exchange(ref _applied, 1) == 1) return Active != NativeMemoryPolicy.None;
        try
        {
            bool huge = LibTorchUsesHugePages();
            if (mallopt(MmapThresholdParameter, huge ? LargeTensorBytes : MmapThreshold) != 1) return false;
            // The heap is kept, not trimmed: what it served one forward it serves the next without faulting in again.
            mallopt(TrimThresholdParameter, TrimThreshold);
            Active = huge ? NativeMemoryPolicy.HugePagesForLargeTensors : NativeMemoryPolicy.FixedThreshold;
            return true;
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

    /// <summary>
    /// Turns libtorch's huge pages on (unless the environment says otherwise) and checks that they took: a fresh 4 MiB
    /// tensor must lie in a mapping the kernel may back with huge pages (false when libtorch allocated before the
    /// switch was set, or the kernel's transparent huge pages are off).
    /// </summary>
    private static bool LibTorchUsesHugePages()
    {
        if (getenv(LibTorchHugePagesVariable) is null) setenv(LibTorchHugePagesVariable, "1", 0);
        using var probe = empty(new long[] { 2 * LargeTensorBytes / sizeof(float) }, ScalarType.Float32);
        return HugePageEligible(DataAddress(probe));
    }

    /// <summary>The address of a CPU tensor's first element.</summary>
    internal static unsafe IntPtr DataAddress(Tensor tensor)
    {
        using var flat = tensor.flatten();
        using var first = flat.narrow(0, 0, 1);
        fixed (byte* address = first.bytes)
        {
            return (IntPtr)address;
        }
    }

    /// <summary>
    /// Whether the kernel may back the mapping that holds <paramref name="address"/> with transparent huge pages
    /// (its <c>THPeligible</c> line in <c>/proc/self/smaps</c>); false where that cannot be read.
    /// </summary>
    public static bool HugePageEligible(IntPtr address)
    {
        if (!OperatingSystem.IsLinux()) return false;
        ulong target = (ulong)(long)address;
        bool inside = false;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/smaps"))
            {
                int dash = line.IndexOf('-');
                int space = line.IndexOf(' ');
                if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
                    && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end))
                {
                    inside = start <= target && target < end;
                    continue;
                }
                if (inside && line.StartsWith("THPeligible:", StringComparison.Ordinal))
                {
                    return line.AsSpan("THPeligible:".Length).Trim().SequenceEqual("1");
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return false;
    }

    private const int MadviseHugePage = 14; // MADV_HUGEPAGE
    private const long HugePageBytes = 2L << 20;

    /// <summary>
    /// Asks the kernel to back the whole 2 MiB pages inside [<paramref name="address"/>, + <paramref name="length"/>)
    /// with transparent huge pages when they are first touched (Linux's <c>madvise(MADV_HUGEPAGE)</c>; honoured when
    /// <c>/sys/kernel/mm/transparent_hugepage/enabled</c> is <c>always</c> or <c>madvise</c>). Advice only: the memory
    /// behaves the same either way, and nothing happens elsewhere than on Linux. Returns whether the kernel took it.
    /// </summary>
    public static bool AdviseHugePages(IntPtr address, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return false;
        long start = ((long)address + HugePageBytes - 1) & ~(HugePageBytes - 1);
        long end = ((long)address + length) & ~(HugePageBytes - 1);
        if (end <= start) return false;
        try
        {
            return madvise((IntPtr)start, (nuint)(end - start), MadviseHugePage) == 0;
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

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int madvise(IntPtr address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int parameter, int value);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv_native(string name);

    private static string? getenv(string name) => Marshal.PtrToStringUTF8(getenv_native(name));

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
