using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TorchSharp;

namespace RnaLm.Native;

/// <summary>The two native libraries <see cref="LibTorch.Load"/> loaded: full paths, or a bare file name when the
/// library came from the system library path.</summary>
/// <param name="TorchCpu">libtorch's CPU library (<c>libtorch_cpu.so</c>, <c>torch_cpu.dll</c>, <c>libtorch_cpu.dylib</c>).</param>
/// <param name="LibTorchSharp">TorchSharp's native bridge (<c>libLibTorchSharp.so</c>, <c>LibTorchSharp.dll</c>, …).</param>
public sealed record LibTorchLibraries(string TorchCpu, string LibTorchSharp);

/// <summary>
/// Loads libtorch and TorchSharp's native library before anything else touches TorchSharp, so that a failure names the
/// file that did not load and the reason the system loader gave (a missing dependency, a C or C++ runtime that is too
/// old, a damaged file), instead of TorchSharp's generic "doesn't contain a reference to libtorch-cpu-…" after it has
/// copied the natives into a <c>cpu/</c> folder next to the application and failed again.
/// </summary>
/// <remarks>
/// The libraries are looked up where the .NET runtime looks for this application's native libraries (the
/// <c>runtimes/&lt;rid&gt;/native/</c> folders listed in its deps.json, then TorchSharp's own folder), so TorchSharp
/// finds the very same files afterwards; a library in none of them is tried on the system library path
/// (<c>LD_LIBRARY_PATH</c>, an installed PyTorch). Call <see cref="Load"/> once at start-up, before the first
/// <c>torch</c> call: TorchSharp's static constructor runs its own loader on first use.
/// </remarks>
public static class LibTorch
{
    private static readonly object Gate = new();
    private static LibTorchLibraries? _loaded;

    /// <summary>The libtorch version this runtime was built against (the libtorch-cpu-* package version).</summary>
    public static string Version { get; } = typeof(LibTorch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "RnaLm.LibTorchVersion")?.Value ?? "unknown";

    /// <summary>The runtime identifier whose native packages this process needs, e.g. <c>linux-x64</c>.</summary>
    public static string HostRid { get; } = ComputeHostRid();

    /// <summary>The CPU libtorch package for <see cref="HostRid"/>, e.g. <c>libtorch-cpu-linux-x64</c>.</summary>
    public static string CpuPackage => "libtorch-cpu-" + HostRid;

    /// <summary>
    /// Loads libtorch's CPU library, then TorchSharp's native library, then initialises TorchSharp's CPU backend. Later
    /// calls return the first result.
    /// </summary>
    /// <returns>Where the two libraries were loaded from.</returns>
    /// <exception cref="LibTorchLoadException">A library is missing or the system loader refused it; the message
    /// names the file, the loader's own error text and what to do about it.</exception>
    public static LibTorchLibraries Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            var libraries = LoadFrom(SearchDirectories());
            InitializeTorchSharp(libraries);
            _loaded = libraries;
            return libraries;
        }
    }

    /// <summary>
    /// The folders the runtime searches for this application's native libraries, in its order: the
    /// <c>NATIVE_DLL_SEARCH_DIRECTORIES</c> of the host (from deps.json), then the folder of TorchSharp.dll.
    /// </summary>
    public static IReadOnlyList<string> SearchDirectories()
    {
        var directories = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string listed)
        {
            directories.AddRange(listed.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        string torchSharpLocation = typeof(torch).Assembly.Location;
        directories.Add(string.IsNullOrEmpty(torchSharpLocation) ? AppContext.BaseDirectory : Path.GetDirectoryName(torchSharpLocation)!);
        return directories
            .Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Loads the two native libraries from the first of <paramref name="directories"/> that holds each one,
    /// without touching TorchSharp.</summary>
    /// <param name="directories">The folders to search, in order.</param>
    /// <param name="trySystemPath">Whether a library in none of the folders is tried on the system library path (by
    /// file name); the tests turn it off because their process has libtorch loaded already, which a load by name finds.</param>
    internal static LibTorchLibraries LoadFrom(IReadOnlyList<string> directories, bool trySystemPath = true) =>
        new(LoadLibrary(NativeFile.TorchCpu, directories, trySystemPath), LoadLibrary(NativeFile.LibTorchSharp, directories, trySystemPath));

    private enum NativeFile
    {
        TorchCpu,
        LibTorchSharp,
    }

    private static string FileName(NativeFile file) => (file, OperatingSystem.IsWindows(), OperatingSystem.IsMacOS()) switch
    {
        (NativeFile.TorchCpu, true, _) => "torch_cpu.dll",
        (NativeFile.TorchCpu, _, true) => "libtorch_cpu.dylib",
        (NativeFile.TorchCpu, _, _) => "libtorch_cpu.so",
        (_, true, _) => "LibTorchSharp.dll",
        (_, _, true) => "libLibTorchSharp.dylib",
        _ => "libLibTorchSharp.so",
    };

    private static string LoadLibrary(NativeFile file, IReadOnlyList<string> directories, bool trySystemPath)
    {
        string name = FileName(file);
        string? path = directories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
        if (path is null && !trySystemPath)
        {
            throw new LibTorchLoadException(NotFoundMessage(file, name, directories, systemPathTried: false), name, null, directories, null);
        }
        try
        {
            NativeLibrary.Load(path ?? name);
            return path ?? name;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            string reason = LoaderReason(e.Message);
            if (path is null && IsNotFound(reason, name))
            {
                throw new LibTorchLoadException(NotFoundMessage(file, name, directories, systemPathTried: true), name, null, directories, e);
            }
            string where = path ?? name;
            throw new LibTorchLoadException(
                $"libtorch could not be loaded: {where} failed to load: {reason}{Explain(file, where, reason)}", where, reason, directories, e);
        }
    }

    /// <summary>
    /// The system loader's own words. On Linux and macOS the runtime's message ends with the <c>dlerror()</c> text on
    /// its last line, after advice about strace and LD_DEBUG; elsewhere the whole message is the reason.
    /// </summary>
    internal static string LoaderReason(string runtimeMessage)
    {
        string trimmed = runtimeMessage.TrimEnd();
        int newline = trimmed.LastIndexOf('\n');
        return newline >= 0 ? trimmed[(newline + 1)..].Trim() : trimmed;
    }

    private static bool IsNotFound(string reason, string name) =>
        reason.StartsWith(name + ": cannot open shared object file", StringComparison.Ordinal)
        || reason.Contains("image not found", StringComparison.Ordinal)
        || reason.Contains("no such file", StringComparison.OrdinalIgnoreCase)
        || reason.Contains("could not be found", StringComparison.OrdinalIgnoreCase);

    private static string NotFoundMessage(NativeFile file, string name, IReadOnlyList<string> directories, bool systemPathTried)
    {
        string searched = directories.Count == 0 ? "(none)" : string.Join(", ", directories);
        string source = file == NativeFile.LibTorchSharp
            ? $"It comes with the TorchSharp package (a dependency of RnaLm.Runtime), whose build assets copy it to runtimes/{HostRid}/native/ in the output folder: make sure TorchSharp is restored and its native assets are not excluded."
            : HostRid == "linux-x64"
                ? $"RnaLm.Runtime brings it through its dependency {CpuPackage} {Version}, whose build assets copy it to runtimes/{HostRid}/native/ in the output folder: make sure that package is restored and its assets are not excluded (ExcludeAssets), and that the application was built for {HostRid}."
                : $"RnaLm.Runtime brings libtorch for linux-x64 only; on {HostRid} add <PackageReference Include=\"{CpuPackage}\" Version=\"{Version}\" /> to the application.";
        string systemPath = systemPathTried ? ", nor on the system library path" : "";
        return $"libtorch could not be loaded: {name} is in none of the folders the .NET runtime searches for this application's native libraries ({searched}){systemPath}. {source}";
    }

    /// <summary>What a loader error means and what to do about it, for the failures seen in practice.</summary>
    internal static string Explain(string file, string reason) => Explain(
        Path.GetFileName(file).Contains("TorchSharp", StringComparison.Ordinal) ? NativeFile.LibTorchSharp : NativeFile.TorchCpu, file, reason);

    private static string Explain(NativeFile file, string where, string reason)
    {
        // The explanation goes on its own line after the loader's message.
        string fileName = Path.GetFileName(where);

        var missing = Regex.Match(reason, @"^(?<lib>[^\s:]+): cannot open shared object file");
        if (missing.Success && missing.Groups["lib"].Value != where)
        {
            string lib = missing.Groups["lib"].Value;
            string folder = Path.GetDirectoryName(where) is { Length: > 0 } d ? d : "its folder";
            string advice = lib.StartsWith("libgomp", StringComparison.Ordinal)
                ? lib == "libgomp.so.1"
                    ? " libgomp is the GNU OpenMP runtime; install it with the system's package manager (Debian and Ubuntu: apt-get install libgomp1)."
                    : $" {lib} is the GNU OpenMP runtime that {CpuPackage} ships next to libtorch_cpu.so, so that folder is incomplete: rebuild the application, and if the file is missing from the package in the NuGet cache too, delete that package folder and restore again."
                : " Put it next to that file or install the system package that provides it; `ldd " + where + "` lists every library it needs and marks the missing ones.";
            return $"\n{fileName} needs {lib}, which is neither in {folder} nor on the system library path.{advice}";
        }

        var cxx = Regex.Match(reason, @"version `(?<version>GLIBCXX_[0-9.]+)' not found");
        if (cxx.Success)
        {
            string version = cxx.Groups["version"].Value;
            if (file == NativeFile.LibTorchSharp && version == "GLIBCXX_3.4.32")
            {
                return $"\nThis system's C++ runtime (libstdc++.so.6, e.g. Debian 12's) stops before GLIBCXX_3.4.32, which TorchSharp's {fileName} declares but never uses. " +
                    "RnaLm.Runtime's build targets (buildTransitive/RnaLm.Runtime.targets; build/TorchSharpNativeFix.targets in the RnaLm repository) put a copy that marks that requirement optional into the output folder when the build machine needs it. " +
                    "This file is the unpatched one: the application was built on a machine whose libstdc++ has GLIBCXX_3.4.32, built with RnaLmPatchLibTorchSharp=false, or copied from elsewhere. " +
                    "Build it on this machine, or install a libstdc++ from GCC 13 or later.";
            }
            return $"\nThis system's C++ runtime (libstdc++.so.6) is older than {fileName} needs ({version}): install a newer libstdc++ (from a newer GCC) or run on a newer distribution.";
        }

        var c = Regex.Match(reason, @"version `(?<version>GLIBC_[0-9.]+)' not found");
        if (c.Success)
        {
            string installed = InstalledGlibc() is { } v ? "glibc " + v : "the installed glibc";
            return $"\nThis system's C library ({installed}) is older than the {c.Groups["version"].Value} that {fileName} needs: run on a newer distribution.";
        }

        if (reason.Contains("invalid ELF header", StringComparison.Ordinal) || reason.Contains("file too short", StringComparison.Ordinal)
            || reason.Contains("not a mach-o file", StringComparison.OrdinalIgnoreCase))
        {
            return $"\n{fileName} is not a valid shared library for this system (truncated, damaged or built for another operating system): delete the output folder and rebuild; if the copy in the NuGet cache is damaged too, delete that package folder and restore again.";
        }

        if (reason.Contains("wrong ELF class", StringComparison.Ordinal) || reason.Contains("incompatible architecture", StringComparison.Ordinal))
        {
            return $"\n{fileName} is built for another processor architecture than this {RuntimeInformation.ProcessArchitecture} process ({HostRid}).";
        }

        return "";
    }

    /// <summary>The glibc version string (e.g. "2.36"), or null when the C library is not glibc.</summary>
    private static unsafe string? InstalledGlibc()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out IntPtr libc)) return null;
        if (!NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out IntPtr export)) return null;
        return Marshal.PtrToStringAnsi(((delegate* unmanaged<IntPtr>)export)());
    }

    /// <summary>
    /// Runs TorchSharp's own initialisation now that its libraries are loaded. If it still fails, the folder it may
    /// have filled with copies of the natives is removed again and the failure is reported with TorchSharp's trace.
    /// </summary>
    private static void InitializeTorchSharp(LibTorchLibraries libraries)
    {
        string torchSharpLocation = typeof(torch).Assembly.Location;
        string? consolidated = string.IsNullOrEmpty(torchSharpLocation) ? null : Path.Combine(Path.GetDirectoryName(torchSharpLocation)!, "cpu");
        bool existed = consolidated is not null && Directory.Exists(consolidated);
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is NotSupportedException or TypeInitializationException or DllNotFoundException or InvalidOperationException)
        {
            if (consolidated is not null && !existed && Directory.Exists(consolidated))
            {
                try
                {
                    Directory.Delete(consolidated, recursive: true);
                }
                catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
                {
                    // Leaving the copies behind is harmless; the original failure is what matters.
                }
            }
            Exception cause = e is TypeInitializationException { InnerException: { } inner } ? inner : e;
            throw new LibTorchLoadException(
                $"libtorch could not be loaded: {libraries.TorchCpu} and {libraries.LibTorchSharp} loaded, but TorchSharp's initialisation failed: {cause.Message}",
                libraries.LibTorchSharp, null, SearchDirectories(), e);
        }
    }

    private static string ComputeHostRid()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        return os + "-" + arch;
    }
}

/// <summary>A native library of libtorch or TorchSharp could not be loaded; the message says which and why.</summary>
public sealed class LibTorchLoadException : DllNotFoundException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The whole explanation.</param>
    /// <param name="library">The library that failed: a full path, or a file name when it was not found.</param>
    /// <param name="loaderMessage">The system loader's error text (dlerror), or null when the file was not found.</param>
    /// <param name="searchedDirectories">The folders that were searched for it.</param>
    /// <param name="inner">The runtime's or TorchSharp's exception.</param>
    public LibTorchLoadException(string message, string library, string? loaderMessage, IReadOnlyList<string> searchedDirectories, Exception? inner)
        : base(message, inner)
    {
        Library = library;
        LoaderMessage = loaderMessage;
        SearchedDirectories = searchedDirectories;
    }

    /// <summary>The library that failed: a full path, or a file name when it was not found.</summary>
    public string Library { get; }

    /// <summary>The system loader's error text, or null when the file was not found anywhere.</summary>
    public string? LoaderMessage { get; }

    /// <summary>The folders that were searched.</summary>
    public IReadOnlyList<string> SearchedDirectories { get; }
}
