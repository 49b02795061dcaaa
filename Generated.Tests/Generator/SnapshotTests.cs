using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Sdk;

namespace RnaLm.Tests.Generator;

/// <summary>
/// Snapshot tests of every file the generator emits for the shipped specs. Each generated file is compared with
/// <c>Snapshots/&lt;spec&gt;/&lt;hint&gt;.verified.cs</c>. A difference or a missing snapshot fails and writes
/// <c>*.received.cs</c> beside it; review with <c>diff</c>, then accept by moving received over verified or by
/// running the tests with <c>RNALM_ACCEPT_SNAPSHOTS=1</c>.
/// </summary>
public sealed class SnapshotTests
{
    private static string SnapshotDir([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "..", "Snapshots");

    public static IEnumerable<object[]> Specs() =>
        Directory.GetFiles(GeneratorHarness.DefinitionsDir, "*.model.json").OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => new object[] { Path.GetFileName(p) });

    [Theory]
    [MemberData(nameof(Specs))]
    public void GeneratedFilesMatchSnapshots(string specFile)
    {
        var path = Path.Combine(GeneratorHarness.DefinitionsDir, specFile);
        var (result, _) = GeneratorHarness.Run(new[] { new InMemoryAdditionalText(path, File.ReadAllText(path)) });
        Assert.Empty(GeneratorHarness.Describe(result.Diagnostics));
        var generated = result.Results.Single().GeneratedSources;
        Assert.NotEmpty(generated);
        string dir = Path.Combine(SnapshotDir(), specFile.Replace(".model.json", "", StringComparison.Ordinal));
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in generated.OrderBy(s => s.HintName, StringComparer.Ordinal))
        {
            string name = source.HintName.Replace(".g.cs", "", StringComparison.Ordinal);
            seen.Add(name);
            string actual = "// HintName: " + source.HintName + "\n" + source.SourceText.ToString();
            var failure = Snapshot.Compare(dir, name, actual);
            if (failure is not null) failures.Add(failure);
        }
        if (Directory.Exists(dir))
        {
            foreach (var stale in Directory.GetFiles(dir, "*.verified.cs").Select(f => Path.GetFileName(f).Replace(".verified.cs", "", StringComparison.Ordinal)).Where(n => !seen.Contains(n)))
            {
                failures.Add($"{stale}: snapshot exists but the generator no longer emits this file (delete {stale}.verified.cs if intended)");
            }
        }
        if (failures.Count > 0) throw new XunitException(string.Join("\n\n", failures));
    }

    [Fact]
    public void GeneratedCodeCompilesAgainstRuntimeAndTorchSharp()
    {
        var (result, output) = GeneratorHarness.Run(GeneratorHarness.ShippedSpecs());
        Assert.Empty(GeneratorHarness.Describe(result.Diagnostics));
        var errors = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", GeneratorHarness.Describe(errors)));
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        var first = GeneratorHarness.Run(GeneratorHarness.ShippedSpecs()).Result.Results.Single().GeneratedSources;
        var second = GeneratorHarness.Run(GeneratorHarness.ShippedSpecs().Reverse()).Result.Results.Single().GeneratedSources;
        Assert.Equal(first.Select(s => s.HintName).OrderBy(h => h), second.Select(s => s.HintName).OrderBy(h => h));
        foreach (var s in first)
        {
            var other = second.Single(x => x.HintName == s.HintName);
            Assert.Equal(s.SourceText.ToString(), other.SourceText.ToString());
            Assert.DoesNotContain("\r", s.SourceText.ToString());
        }
    }
}

/// <summary>Snapshot files: compare, write *.received.cs on mismatch, accept with RNALM_ACCEPT_SNAPSHOTS=1 (unless RNALM_STRICT_SNAPSHOTS=1).</summary>
internal static class Snapshot
{
    public static string? Compare(string dir, string name, string actual)
    {
        Directory.CreateDirectory(dir);
        string verified = Path.Combine(dir, name + ".verified.cs");
        string received = Path.Combine(dir, name + ".received.cs");
        // CI sets RNALM_STRICT_SNAPSHOTS=1: there a snapshot is only ever compared, never written.
        bool accept = Environment.GetEnvironmentVariable("RNALM_ACCEPT_SNAPSHOTS") == "1"
            && Environment.GetEnvironmentVariable("RNALM_STRICT_SNAPSHOTS") != "1";
        if (File.Exists(verified) && File.ReadAllText(verified).Replace("\r\n", "\n") == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return null;
        }
        if (accept)
        {
            File.WriteAllText(verified, actual);
            if (File.Exists(received)) File.Delete(received);
            return null;
        }
        File.WriteAllText(received, actual);
        if (!File.Exists(verified)) return $"{name}: no snapshot yet; review {received} and accept it (see README)";
        return $"{name}: differs from {verified}\n{LineDiff(File.ReadAllText(verified).Replace("\r\n", "\n"), actual)}";
    }

    private static string LineDiff(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var lines = new List<string>();
        for (int i = 0; i < Math.Max(e.Length, a.Length) && lines.Count < 12; i++)
        {
            string? x = i < e.Length ? e[i] : null, y = i < a.Length ? a[i] : null;
            if (x == y) continue;
            if (x is not null) lines.Add($"  line {i + 1} - {x}");
            if (y is not null) lines.Add($"  line {i + 1} + {y}");
        }
        return string.Join("\n", lines);
    }
}
