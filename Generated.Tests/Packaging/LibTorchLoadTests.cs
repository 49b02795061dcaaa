using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using RnaLm.Native;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Packaging;

/// <summary>
/// <see cref="LibTorch.Load"/> and what it reports when a native library does not load. The failures are real loader
/// failures, provoked with folders that lack libtorch, hold a damaged file, a library whose dependency is missing, or
/// (on a machine whose libstdc++ lacks GLIBCXX_3.4.32, such as Debian 12) TorchSharp's unpatched library. This process
/// has libtorch loaded already, so the folders are searched without the system library path, which would find it.
/// </summary>
public sealed class LibTorchLoadTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnalm-libtorch-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly ITestOutputHelper _output;

    public LibTorchLoadTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LoadUsesTheApplicationsNativeFolderAndTorchSharpNeedsNoFallback()
    {
        var libraries = LibTorch.Load();

        Assert.Equal("libtorch_cpu.so", Path.GetFileName(libraries.TorchCpu));
        Assert.Equal("libLibTorchSharp.so", Path.GetFileName(libraries.LibTorchSharp));
        var searched = LibTorch.SearchDirectories();
        Assert.Contains(Path.GetDirectoryName(libraries.TorchCpu), searched);
        Assert.Contains(Path.GetDirectoryName(libraries.LibTorchSharp), searched);
        Assert.Same(libraries, LibTorch.Load());
        Assert.Equal(3, torch.ones(3).sum().item<float>());
        string torchSharpDir = Path.GetDirectoryName(typeof(torch).Assembly.Location)!;
        Assert.False(Directory.Exists(Path.Combine(torchSharpDir, "cpu")), "TorchSharp copied its natives into a cpu/ folder: its first load failed");
    }

    [Fact]
    public void AFolderWithoutLibtorchNamesTheFileTheFoldersAndThePackage()
    {
        var e = Assert.Throws<LibTorchLoadException>(() => LibTorch.LoadFrom(new[] { _dir }, trySystemPath: false));

        Assert.Equal("libtorch_cpu.so", e.Library);
        Assert.Null(e.LoaderMessage);
        Assert.Equal(new[] { _dir }, e.SearchedDirectories);
        Assert.Contains($"libtorch_cpu.so is in none of the folders the .NET runtime searches for this application's native libraries ({_dir})", e.Message);
        Assert.Contains($"libtorch-cpu-linux-x64 {LibTorch.Version}", e.Message);
        Assert.Equal("2.10.0", LibTorch.Version);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void ADamagedLibraryIsNamedWithTheLoadersReason()
    {
        string damaged = Path.Combine(_dir, "libtorch_cpu.so");
        File.WriteAllText(damaged, "not a shared library\n");

        var e = Assert.Throws<LibTorchLoadException>(() => LibTorch.LoadFrom(new[] { _dir }, trySystemPath: false));

        Assert.Equal(damaged, e.Library);
        Assert.NotNull(e.LoaderMessage);
        Assert.Matches("invalid ELF header|file too short", e.LoaderMessage);
        Assert.StartsWith($"libtorch could not be loaded: {damaged} failed to load: {e.LoaderMessage}", e.Message);
        Assert.Contains("libtorch_cpu.so is not a valid shared library for this system", e.Message);
        _output.WriteLine(e.Message);
    }

    [Fact]
    public void AMissingDependencyIsNamed()
    {
        // libtorch.so (a few kB) with its dependency on libtorch_cpu.so renamed to a library that exists nowhere.
        string libtorch = LibTorch.SearchDirectories().Select(d => Path.Combine(d, "libtorch.so")).First(File.Exists);
        byte[] bytes = File.ReadAllBytes(libtorch);
        int renamed = ReplaceAll(bytes, "libtorch_cpu.so\0", "libtorch_cpX.so\0");
        Assert.True(renamed > 0, "libtorch.so no longer names libtorch_cpu.so");
        string crafted = Path.Combine(_dir, "libtorch_cpu.so");
        File.WriteAllBytes(crafted, bytes);

        var e = Assert.Throws<LibTorchLoadException>(() => LibTorch.LoadFrom(new[] { _dir }, trySystemPath: false));

        Assert.Equal(crafted, e.Library);
        Assert.StartsWith("libtorch_cpX.so: cannot open shared object file", e.LoaderMessage);
        Assert.Contains($"libtorch_cpu.so needs libtorch_cpX.so, which is neither in {_dir} nor on the system library path.", e.Message);
        _output.WriteLine(e.Message);
    }

    [Fact]
    public void TorchSharpsUnpatchedLibraryNamesTheLibstdcxxVersionAndTheFix()
    {
        if (!NativeFix.HostNeedsPatch())
        {
            // This machine's libstdc++ has GLIBCXX_3.4.32: the unpatched library would load (a second copy of it in
            // this process), so there is no failure to provoke. Debian 12, where the CI runs, has the failure.
            _output.WriteLine("libstdc++ provides GLIBCXX_3.4.32 here; nothing to provoke");
            return;
        }
        // TorchSharp's own file from the NuGet folder, next to nothing else: libtorch_cpu.so comes from the application's
        // folder (already loaded in this process), and libLibTorchSharp.so's other dependencies are loaded too.
        string version = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        string root = typeof(PackageConsumerTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RnaLm.Tests.NuGetPackageRoot").Value!;
        string shipped = Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        string unpatched = Path.Combine(_dir, "libLibTorchSharp.so");
        File.Copy(shipped, unpatched);
        string native = Path.GetDirectoryName(LibTorch.Load().TorchCpu)!;

        var e = Assert.Throws<LibTorchLoadException>(() => LibTorch.LoadFrom(new[] { _dir, native }, trySystemPath: false));

        Assert.Equal(unpatched, e.Library);
        Assert.Contains("version `GLIBCXX_3.4.32' not found", e.LoaderMessage);
        Assert.Contains("(required by " + unpatched + ")", e.LoaderMessage);
        Assert.Contains("buildTransitive/RnaLm.Runtime.targets", e.Message);
        Assert.Contains("This file is the unpatched one", e.Message);
        _output.WriteLine(e.Message);
    }

    [Theory]
    [InlineData("/app/runtimes/linux-x64/native/libtorch_cpu.so", "libgomp.so.1: cannot open shared object file: No such file or directory",
        "libtorch_cpu.so needs libgomp.so.1, which is neither in /app/runtimes/linux-x64/native nor on the system library path. libgomp is the GNU OpenMP runtime; install it")]
    [InlineData("/app/runtimes/linux-x64/native/libtorch_cpu.so", "libgomp-98b21ff3.so.1: cannot open shared object file: No such file or directory",
        "libgomp-98b21ff3.so.1 is the GNU OpenMP runtime that libtorch-cpu-linux-x64 ships next to libtorch_cpu.so, so that folder is incomplete")]
    [InlineData("/app/runtimes/linux-x64/native/libLibTorchSharp.so",
        "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by /app/runtimes/linux-x64/native/libLibTorchSharp.so)",
        "is older than the GLIBC_2.34 that libLibTorchSharp.so needs: run on a newer distribution.")]
    [InlineData("/app/runtimes/linux-x64/native/libLibTorchSharp.so",
        "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /app/runtimes/linux-x64/native/libLibTorchSharp.so)",
        "built with RnaLmPatchLibTorchSharp=false, or copied from elsewhere")]
    [InlineData("/app/runtimes/linux-x64/native/libtorch_cpu.so",
        "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.33' not found (required by /app/runtimes/linux-x64/native/libtorch_cpu.so)",
        "This system's C++ runtime (libstdc++.so.6) is older than libtorch_cpu.so needs (GLIBCXX_3.4.33)")]
    [InlineData("/app/runtimes/linux-x64/native/libtorch_cpu.so", "/app/runtimes/linux-x64/native/libtorch_cpu.so: wrong ELF class: ELFCLASS32",
        "libtorch_cpu.so is built for another processor architecture")]
    public void LoaderFailuresAreExplained(string file, string reason, string explanation)
    {
        Assert.Contains(explanation, LibTorch.Explain(file, reason), StringComparison.Ordinal);
    }

    [Fact]
    public void TheLoadersReasonIsTheLastLineOfTheRuntimesMessage()
    {
        const string Message = "Unable to load shared library '/x/libtorch_cpu.so' or one of its dependencies. In order to help diagnose loading problems, " +
            "consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: \n/x/libtorch_cpu.so: file too short\n";
        Assert.Equal("/x/libtorch_cpu.so: file too short", LibTorch.LoaderReason(Message));
        Assert.Equal("The specified module could not be found.", LibTorch.LoaderReason("The specified module could not be found."));
    }

    private static int ReplaceAll(byte[] bytes, string from, string to)
    {
        byte[] find = Encoding.ASCII.GetBytes(from);
        byte[] replacement = Encoding.ASCII.GetBytes(to);
        int count = 0;
        for (int i = 0; i + find.Length <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, find.Length).SequenceEqual(find))
            {
                replacement.CopyTo(bytes, i);
                count++;
            }
        }
        return count;
    }
}
