using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// Seeded mutations of the fixture checkpoints' <c>model.safetensors</c>: every case either loads with each tensor
/// holding the bytes of its own valid range, or fails with <see cref="RnaLm.IO.SafeTensorsFormatException"/> naming
/// the file, within a time limit and a managed-allocation bound of a small multiple of the file size.
/// <c>RNALM_FUZZ_CASES=10000</c> repeats the probe's ten thousand mutations.
/// </summary>
public sealed class SafeTensorsFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-fuzz-st-").FullName;
    private readonly ITestOutputHelper _output;

    public SafeTensorsFuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MutatedCheckpointFilesLoadTheirOwnBytesOrFailWithTheTypedError()
    {
        int cases = FuzzSettings.Cases(1000);
        int seed = FuzzSettings.Seed(9);
        var rng = new Random(seed);
        var originals = Directory.GetDirectories(Path.Combine(Fixtures.SharedDir, "fixtures", "models"))
            .Select(d => Path.Combine(d, "model.safetensors"))
            .Where(File.Exists)
            .Order(StringComparer.Ordinal)
            .Select(p => (Name: Path.GetFileName(Path.GetDirectoryName(p))!, Bytes: File.ReadAllBytes(p)))
            .ToArray();
        Assert.NotEmpty(originals);

        var counts = Enum.GetValues<FuzzOutcome>().ToDictionary(o => o, _ => 0);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            var (name, original) = originals[rng.Next(originals.Length)];
            var (bytes, description) = SafeTensorsFuzz.Mutate(original, rng);
            string path = Path.Combine(_dir, $"case-{i}.safetensors");
            File.WriteAllBytes(path, bytes);
            var (outcome, detail) = SafeTensorsFuzz.Check(path, bytes, TimeSpan.FromSeconds(10), allocationFactor: 4);
            counts[outcome]++;
            if (outcome is not (FuzzOutcome.Accepted or FuzzOutcome.Rejected))
            {
                failures.Add($"case {i} ({name}: {description}): {outcome}: {detail}");
            }
            if (outcome != FuzzOutcome.Hang) File.Delete(path);
        }

        _output.WriteLine($"{cases} cases (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: " +
            string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases failed:\n" + string.Join("\n", failures.Take(10)));
        // Both paths are exercised: valid mutations (data bytes, reordered entries, same-size swaps) and invalid ones.
        Assert.True(counts[FuzzOutcome.Accepted] >= cases / 20, $"only {counts[FuzzOutcome.Accepted]} cases were valid files");
        Assert.True(counts[FuzzOutcome.Rejected] >= cases / 4, $"only {counts[FuzzOutcome.Rejected]} cases were rejected");
    }
}
