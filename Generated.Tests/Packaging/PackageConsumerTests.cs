using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RnaLm.Tests.Generator;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Packaging;

/// <summary>
/// The package route of the README, end to end: <c>dotnet pack Dsl.sln</c> (of what this test run built) into a
/// temporary feed, then a fresh project outside the repository (<c>Packaging/Consumer/</c>) that references only
/// RnaLm.Generator, restored offline from that feed and the local NuGet cache, built and run. Its forward pass must give
/// the expected shape and parameter count, its libtorch must load from its own output folder (with the Debian 12 fix
/// applied exactly when this machine needs it), and a mistake in its spec must fail its build at the token with an RNA
/// diagnostic. One pack serves both builds.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PackageConsumerTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(4);

    private static readonly string[] PackageIds = { "RnaLm.Generator", "RnaLm.Models", "RnaLm.Runtime" };

    /// <summary>
    /// Parameters of the consumer's spec, counted by hand: word embeddings 11×32 (6 special tokens and A C G U N),
    /// positions 64×32, embedding LayerNorm 2×32; per layer Q, K, V and the attention output 4×(32×32+32), two
    /// LayerNorms 2×2×32, the feed-forward 32×64+64 and 64×32+32; the pooler 32×32+32.
    /// </summary>
    private const long ExpectedParameters = 11 * 32 + 64 * 32 + 2 * 32 + 2 * (4 * (32 * 32 + 32) + 2 * 2 * 32 + (32 * 64 + 64) + (64 * 32 + 32)) + (32 * 32 + 32);

    private readonly ITestOutputHelper _output;

    public PackageConsumerTests(ITestOutputHelper output) => _output = output;

    private static string ConsumerSource => Path.Combine(GeneratorHarness.RepoRoot(), "Generated.Tests", "Packaging", "Consumer");

    /// <summary>The NuGet folder this test project restored from; it holds TorchSharp, libtorch and their dependencies.</summary>
    private static string NuGetPackageRoot =>
        typeof(PackageConsumerTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RnaLm.Tests.NuGetPackageRoot").Value
        ?? throw new InvalidOperationException("The test assembly does not record its NuGet package folder.");

    [Fact]
    public void PackedPackagesBuildAndRunAConsumerAndReportSpecMistakesAtTheToken()
    {
        var total = Stopwatch.StartNew();
        string work = Path.Combine(Path.GetTempPath(), "rnalm-packaging-" + Guid.NewGuid().ToString("N")[..12]);
        string feed = Path.Combine(work, "feed");
        string packages = Path.Combine(work, "packages");
        string consumer = Path.Combine(work, "consumer");
        try
        {
            // A version no NuGet folder can already hold, so the consumer gets exactly these packages.
            string suffix = "packagingtest.t" + Guid.NewGuid().ToString("N")[..12];
            var pack = Dotnet(GeneratorHarness.RepoRoot(), new Dictionary<string, string?>(),
                "pack", "Dsl.sln", "--no-build", "-c", Configuration, "-o", feed, "--version-suffix", suffix,
                "-p:NuspecOutputPath=" + Path.Combine(work, "nuspec") + Path.DirectorySeparatorChar, "--disable-build-servers", "-nologo");
            Assert.True(pack.ExitCode == 0, "dotnet pack failed:\n" + pack.Output);
            string version = CheckPackages(feed, suffix);

            CopyConsumer(consumer);
            WriteNuGetConfig(consumer, feed, packages);
            // NUGET_PACKAGES would override the nuget.config's packages folder.
            var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = packages };
            string versionProperty = "-p:RnaLmPackageVersion=" + version;

            var restore = Dotnet(consumer, environment, "restore", "MyRnaModels.csproj", versionProperty, "--disable-build-servers", "-nologo");
            Assert.True(restore.ExitCode == 0, "restore failed:\n" + restore.Output);

            // Build and run the consumer as written.
            var build = Build(consumer, environment, versionProperty);
            Assert.True(build.ExitCode == 0, "the consumer does not build:\n" + build.Output);
            Assert.DoesNotMatch(@"\.g\.cs\(\d+,\d+\): warning", build.Output);
            string bin = Path.Combine(consumer, "bin", Configuration, "net10.0");
            var run = Dotnet(consumer, environment, Path.Combine(bin, "MyRnaModels.dll"));
            Assert.True(run.ExitCode == 0, "the consumer failed:\n" + run.Output);
            CheckRun(run.Output, bin);
            CheckNativeFix(consumer, bin);

            // A mistake in the spec: 5 heads do not divide the hidden size 32.
            string specPath = Path.Combine(consumer, "minibert.model.json");
            string spec = File.ReadAllText(specPath);
            const string Marker = "\"heads\": 4";
            Assert.Single(Regex.Matches(spec, Regex.Escape(Marker)));
            string broken = spec.Replace(Marker, "\"heads\": 5", StringComparison.Ordinal);
            File.WriteAllText(specPath, broken, new UTF8Encoding(false));
            int offset = broken.IndexOf("\"heads\": 5", StringComparison.Ordinal) + "\"heads\": ".Length;
            int line = 1 + broken.Take(offset).Count(c => c == '\n');
            int column = offset - (broken.LastIndexOf('\n', offset - 1) + 1) + 1;

            var failing = Build(consumer, environment, versionProperty);
            Assert.True(failing.ExitCode != 0, "the build with a broken spec succeeded:\n" + failing.Output);
            var errors = Regex.Matches(failing.Output, @"^\s*(?<path>[^\s(][^(]*?)\((?<line>\d+),(?<col>\d+)\): error (?<id>[A-Z]+\d+): (?<message>.*?)(?: \[[^\]]*\])?\s*$", RegexOptions.Multiline)
                .Select(m => (File: Path.GetFileName(m.Groups["path"].Value), Line: int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture), Column: int.Parse(m.Groups["col"].Value, CultureInfo.InvariantCulture),
                    Id: m.Groups["id"].Value, Message: m.Groups["message"].Value))
                .Distinct()
                .ToList();
            var specErrors = errors.Where(e => e.File == "minibert.model.json").ToList();
            Assert.True(specErrors.Count == 1 && (specErrors[0].Id, specErrors[0].Line, specErrors[0].Column) == ("RNA3001", line, column),
                $"expected one RNA3001 at minibert.model.json({line},{column}), got [{string.Join("; ", specErrors)}]\n{failing.Output}");
            Assert.Contains("not divisible by the number of attention heads 5", specErrors[0].Message, StringComparison.Ordinal);

            _output.WriteLine($"pack {pack.Elapsed.TotalSeconds:F1} s, restore {restore.Elapsed.TotalSeconds:F1} s, build {build.Elapsed.TotalSeconds:F1} s, " +
                $"run {run.Elapsed.TotalSeconds:F1} s, broken build {failing.Elapsed.TotalSeconds:F1} s, total {total.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// README's package route shows exactly the spec and program this test builds, its output lines, and the version
    /// of <c>VersionPrefix</c> in Directory.Build.props wherever it names the package version.
    /// </summary>
    [Fact]
    public void ReadmeShowsTheTestedConsumerAndTheCurrentVersion()
    {
        string root = GeneratorHarness.RepoRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        int start = readme.IndexOf("## Use RnaLm in your project", StringComparison.Ordinal);
        int end = readme.IndexOf("## Fresh clone: two commands", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md must have the package section before \"Fresh clone: two commands\"");
        string section = readme[start..end];
        var blocks = Regex.Matches(section, @"^```(?<lang>\w+)\n(?<body>.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)
            .Select(m => (Lang: m.Groups["lang"].Value, Body: m.Groups["body"].Value))
            .ToList();
        string Read(string file) => File.ReadAllText(Path.Combine(ConsumerSource, file)).Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(("json", Read("minibert.model.json")), blocks);
        Assert.Contains(("csharp", Read("Program.cs")), blocks);
        Assert.Contains(blocks, b => b.Lang == "text" && b.Body.Contains("shape: [1, 12, 32]\n", StringComparison.Ordinal)
            && b.Body.Contains($"parameters: {ExpectedParameters} counted, {ExpectedParameters} declared\n", StringComparison.Ordinal));

        string props = File.ReadAllText(Path.Combine(root, "Directory.Build.props"));
        string version = Regex.Match(props, "<VersionPrefix>(?<v>[^<]+)</VersionPrefix>").Groups["v"].Value;
        Assert.NotEmpty(version);
        var named = Regex.Matches(section, @"Include=""RnaLm\.Generator"" Version=""(?<v>[^""]+)""|--version (?<v>\S+)|\((?<v>\d+\.\d+\.\d+)\)")
            .Select(m => m.Groups["v"].Value)
            .ToList();
        Assert.Equal(3, named.Count);
        Assert.All(named, v => Assert.Equal(version, v));
    }

    /// <summary>
    /// The feed holds exactly the three packages, in one version, each with its metadata; RnaLm.Generator carries the
    /// generator with Scriban next to it and depends on RnaLm.Runtime, which carries the native fix and depends on
    /// TorchSharp and libtorch.
    /// </summary>
    /// <returns>The packages' version.</returns>
    private string CheckPackages(string feed, string suffix)
    {
        var files = Directory.GetFiles(feed, "*.nupkg").Select(f => Path.GetFileName(f)).OrderBy(f => f, StringComparer.Ordinal).ToList();
        foreach (string file in files) _output.WriteLine($"{file}: {new FileInfo(Path.Combine(feed, file)).Length:N0} bytes");
        var match = Regex.Match(files.FirstOrDefault() ?? "", @"^RnaLm\.Generator\.(?<version>.+)\.nupkg$");
        Assert.True(match.Success, "no RnaLm.Generator package in " + string.Join(", ", files));
        string version = match.Groups["version"].Value;
        Assert.EndsWith("-" + suffix, version, StringComparison.Ordinal);
        Assert.Equal(PackageIds.Select(id => $"{id}.{version}.nupkg"), files);

        var entries = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var nuspecs = new Dictionary<string, XElement>(StringComparer.Ordinal);
        foreach (string id in PackageIds)
        {
            using var zip = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{version}.nupkg"));
            entries[id] = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            using var stream = zip.GetEntry(id + ".nuspec")!.Open();
            var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            nuspecs[id] = metadata;
            string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            Assert.Equal(version, Field("version"));
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.Contains("README.md", entries[id]);
            Assert.True(Field("description").Length > 100, $"{id} has no real description");
            var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.Equal("https://github.com/rnalm/rnalm", repository.Attribute("url")?.Value);
        }

        Assert.Superset(new HashSet<string>(StringComparer.Ordinal)
        {
            "analyzers/dotnet/cs/RnaLm.Generator.dll", "analyzers/dotnet/cs/Scriban.Signed.dll", "analyzers/dotnet/cs/RnaLm.Abstractions.dll",
            "lib/net10.0/RnaLm.Abstractions.dll", "lib/net10.0/RnaLm.Abstractions.xml",
        }, entries["RnaLm.Generator"]);
        Assert.DoesNotContain(entries["RnaLm.Generator"], e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("RnaLm.Generator", StringComparison.Ordinal));
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal)
        {
            "lib/net10.0/RnaLm.Runtime.dll", "lib/net10.0/RnaLm.Runtime.xml", "buildTransitive/RnaLm.Runtime.targets",
        }, entries["RnaLm.Runtime"]);
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { "lib/net10.0/RnaLm.Models.dll", "lib/net10.0/RnaLm.Models.xml" }, entries["RnaLm.Models"]);

        Assert.Equal(new[] { ("RnaLm.Runtime", version) }, Dependencies(nuspecs["RnaLm.Generator"]));
        Assert.Equal(new[] { ("RnaLm.Runtime", version) }, Dependencies(nuspecs["RnaLm.Models"]));
        Assert.Equal(new[] { "TorchSharp", "libtorch-cpu-linux-x64" }, Dependencies(nuspecs["RnaLm.Runtime"]).Select(d => d.Id));
        return version;
    }

    /// <summary>The ids and versions of a nuspec's dependencies; none may exclude build assets, or the consumer would
    /// not get RnaLm.Runtime's buildTransitive targets.</summary>
    private static List<(string Id, string Version)> Dependencies(XElement metadata)
    {
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency").ToList();
        foreach (var dependency in dependencies)
        {
            string exclude = dependency.Attribute("exclude")?.Value ?? "";
            Assert.DoesNotContain("Build", exclude, StringComparison.OrdinalIgnoreCase);
        }
        return dependencies.Select(d => (d.Attribute("id")!.Value, d.Attribute("version")!.Value)).ToList();
    }

    /// <summary>The forward pass ran with the expected shape and parameter count, on libtorch from the output folder,
    /// and TorchSharp did not fall back to copying the natives into a <c>cpu/</c> folder.</summary>
    private static void CheckRun(string output, string bin)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string libtorch = lines.Single(l => l.StartsWith("libtorch: ", StringComparison.Ordinal))["libtorch: ".Length..];
        Assert.Equal(Path.Combine(bin, "runtimes", "linux-x64", "native", "libtorch_cpu.so"), libtorch);
        Assert.Contains("shape: [1, 12, 32]", lines);
        Assert.Contains($"parameters: {ExpectedParameters} counted, {ExpectedParameters} declared", lines);
        Assert.False(Directory.Exists(Path.Combine(bin, "cpu")), "TorchSharp copied the natives into bin/.../cpu, so its first load failed");
    }

    /// <summary>
    /// RnaLm.Runtime's buildTransitive targets put a patched libLibTorchSharp.so into the output exactly when this
    /// machine's libstdc++ lacks GLIBCXX_3.4.32 (Debian 12), and leave TorchSharp's file alone otherwise.
    /// </summary>
    private static void CheckNativeFix(string consumer, string bin)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(consumer, "obj", "project.assets.json")));
        string torchSharp = assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Select(p => p.Name).Single(n => n.StartsWith("TorchSharp/", StringComparison.Ordinal));
        string original = Path.Combine(NuGetPackageRoot, "torchsharp", torchSharp["TorchSharp/".Length..], "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        byte[] shipped = File.ReadAllBytes(original);
        byte[] copied = File.ReadAllBytes(Path.Combine(bin, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));
        if (NativeFix.HostNeedsPatch())
        {
            Assert.False(shipped.AsSpan().SequenceEqual(copied), "this machine needs the patched libLibTorchSharp.so, but the output has TorchSharp's");
            Assert.Equal(shipped.Length, copied.Length);
            Assert.Equal(1, shipped.Zip(copied).Count(pair => pair.First != pair.Second));
        }
        else
        {
            Assert.True(shipped.AsSpan().SequenceEqual(copied), "this machine's libstdc++ has GLIBCXX_3.4.32, yet the output's libLibTorchSharp.so was changed");
        }
    }

    private static void CopyConsumer(string consumer)
    {
        Directory.CreateDirectory(consumer);
        foreach (string file in Directory.EnumerateFiles(ConsumerSource))
        {
            File.Copy(file, Path.Combine(consumer, Path.GetFileName(file)));
        }
    }

    /// <summary>Offline: the temporary feed and the local NuGet cache are the only sources; packages from the feed are
    /// extracted into a folder of this run, and those already in the cache are used in place (a fallback folder).</summary>
    private static void WriteNuGetConfig(string consumer, string feed, string packages)
    {
        var config = new XDocument(new XElement("configuration",
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", packages))),
            new XElement("packageSources",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "rnalm-packed"), new XAttribute("value", feed)),
                new XElement("add", new XAttribute("key", "local-cache"), new XAttribute("value", NuGetPackageRoot))),
            new XElement("fallbackPackageFolders",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "local-cache"), new XAttribute("value", NuGetPackageRoot)))));
        config.Save(Path.Combine(consumer, "nuget.config"));
    }

    private DotnetResult Build(string consumer, IReadOnlyDictionary<string, string?> environment, string versionProperty) =>
        Dotnet(consumer, environment, "build", "MyRnaModels.csproj", "--no-restore", "-c", Configuration, versionProperty,
            "--disable-build-servers", "-nologo", "-clp:NoSummary");

    private DotnetResult Dotnet(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        DotnetCli.Run(workingDirectory, CommandTimeout, environment, _output, args);
}
