using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using RnaLm.IO;
using RnaLm.Structure;
using RnaLm.Tests.Parity;
using Xunit;
using static RnaLm.Tests.Cli.CliHarness;
using static TorchSharp.torch;

namespace RnaLm.Tests.Cli;

/// <summary>
/// <c>rnalm fold</c> on the ernierna-ss fixture: contact maps equal the reference <c>&lt;case&gt;.contact_map</c>,
/// the printed dot-bracket is the thresholded map, and non-structure checkpoints and bad arguments fail cleanly.
/// </summary>
public sealed class FoldCliTests : IDisposable
{
    private const double ContactAtol = 1e-4;

    private readonly string _temp = Directory.CreateTempSubdirectory("rnalm-fold-tests-").FullName;

    private static string Checkpoint => Fixtures.Models("ernierna-ss");

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>One printed block: <c>&gt;name</c>, the tokens line and the dot-bracket line.</summary>
    private sealed record Block(string Name, string Tokens, string Structure);

    private static Block[] ParseBlocks(string output)
    {
        string[] lines = output.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length % 3 == 0, $"fold printed {lines.Length} lines, not blocks of 3:\n{output}");
        return lines.Chunk(3).Select(b =>
        {
            Assert.StartsWith(">", b[0]);
            return new Block(b[0][1..], b[1], b[2]);
        }).ToArray();
    }

    /// <summary>The reference contact map of a case as an [L', L'] tensor.</summary>
    private static Tensor ReferenceMap(SafeTensorsFile expected, string caseName) =>
        expected.Load($"{caseName}.contact_map").select(0, 0).select(-1, 0);

    private static float[,] ToMatrix(Tensor map)
    {
        int length = (int)map.shape[0];
        float[] values = map.contiguous().data<float>().ToArray();
        var matrix = new float[length, length];
        Buffer.BlockCopy(values, 0, matrix, 0, values.Length * sizeof(float));
        return matrix;
    }

    /// <summary>What the tokens line should be: one character per token, or space-separated when a token is longer.</summary>
    private static string ExpectedTokens(string sequence)
    {
        var tokens = RnaLm.Tokenization.RnaTokenizer.FromDirectory(Checkpoint).Tokenize(sequence);
        return string.Join(tokens.All(t => t.Length == 1) ? "" : " ", tokens);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0.7")]
    public void FoldReproducesTheReferenceContactMapsAndThresholdsThem(string? threshold)
    {
        var cases = FixtureCase.Load(Checkpoint);
        Assert.All(cases, c => Assert.Single(c.Sequences));
        string fasta = Path.Combine(_temp, "cases.fasta");
        File.WriteAllText(fasta, string.Concat(cases.Select(c => $">{c.Name} fixture case\n{c.Sequences[0]}\n")));
        string output = Path.Combine(_temp, "maps.safetensors");
        string[] thresholdArgs = threshold is null ? [] : ["--threshold", threshold];
        var result = Succeeds(["fold", "--checkpoint", Checkpoint, "--input", fasta, "--output", output, .. thresholdArgs]);
        Assert.Contains($"{cases.Count} sequences", result.Err);
        double t = threshold is null ? 0.5 : double.Parse(threshold, CultureInfo.InvariantCulture);

        var blocks = ParseBlocks(result.Out);
        Assert.Equal(cases.Select(c => c.Name), blocks.Select(b => b.Name));
        using var expected = SafeTensorsFile.Open(Path.Combine(Checkpoint, "outputs.safetensors"));
        using var written = SafeTensorsFile.Open(output);
        Assert.Equal(cases.Select(c => $"{c.Name}.contact_map"), written.Tensors.Select(x => x.Name));
        Assert.Equal("ernierna", written.Metadata["model_type"]);
        Assert.Equal(Path.GetFullPath(Checkpoint), written.Metadata["checkpoint"]);

        int pairs = 0;
        foreach (var (@case, block) in cases.Zip(blocks))
        {
            using var scope = NewDisposeScope();
            var reference = ReferenceMap(expected, @case.Name);
            int length = (int)reference.shape[0];
            Assert.Equal(@case.InputIds[0].Length - 2, length);
            var actual = written.Load($"{@case.Name}.contact_map");
            Assert.Equal(ScalarType.Float32, actual.dtype);
            TensorAssert.Close(reference, actual, ContactAtol, 0, $"fold {@case.Name}.contact_map");

            Assert.Equal(length, block.Structure.Length);
            var structurePairs = DotBracket.Pairs(block.Structure); // throws when unbalanced
            Assert.Equal(DotBracket.SelectPairs(ToMatrix(reference), t), structurePairs);
            pairs += structurePairs.Count;
            Assert.Equal(ExpectedTokens(@case.Sequences[0]), block.Tokens);
        }
        Assert.True(pairs > 0, "no pairs at all: the comparison of structures would be vacuous");

        // The tokens line: upper case and T -> U; an unknown letter stays as written; <mask> forces separators.
        Assert.Equal("GGUCUCUCUGGUUAGACCAGAUCUGAGCCU", blocks.Single(b => b.Name == "tar").Tokens);
        Assert.Equal("GCGGAUUUAGCUCAGZUUGGG", blocks.Single(b => b.Name == "messy").Tokens);
        Assert.StartsWith("G G U C <mask> C U", blocks.Single(b => b.Name == "masked").Tokens);
    }

    [Fact]
    public void FoldTextArgumentsAreNamedInOrderAndMatchTheFastaRun()
    {
        var cases = FixtureCase.Load(Checkpoint);
        var result = Succeeds(["fold", "--checkpoint", Checkpoint, .. cases.Select(c => c.Sequences[0])]);
        var blocks = ParseBlocks(result.Out);
        Assert.Equal(Enumerable.Range(1, cases.Count).Select(i => $"seq{i}"), blocks.Select(b => b.Name));

        using var expected = SafeTensorsFile.Open(Path.Combine(Checkpoint, "outputs.safetensors"));
        foreach (var (@case, block) in cases.Zip(blocks))
        {
            using var scope = NewDisposeScope();
            Assert.Equal(DotBracket.SelectPairs(ToMatrix(ReferenceMap(expected, @case.Name)), 0.5), DotBracket.Pairs(block.Structure));
        }
        // The pseudoknot of the "masked" case (17-19 crosses 12-18) uses square brackets.
        Assert.Equal("......((....(....[)]()..))....", blocks[cases.ToList().FindIndex(c => c.Name == "masked")].Structure);
    }

    [Fact]
    public void FoldOnACheckpointWithoutStructureHeadFailsAndSaysWhichCheckpointsWork()
    {
        var result = Rnalm("fold", "--checkpoint", Fixtures.Models("splicebert"), "ACGUACGU");
        AssertCleanError(result, 1, "splicebert", "SpliceBertForPreTraining", "secondary-structure head", "ErnieRnaForSecondaryStructurePrediction", "ernierna-ss");
        Assert.Equal("", result.Out);
    }

    [Fact]
    public void FoldUsageErrors()
    {
        string fasta = Path.Combine(_temp, "in.fasta");
        File.WriteAllText(fasta, ">a\nACGUACGU\n");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint), 2, "--input", "TEXT");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "--input", fasta, "ACGU"), 2, "exactly one");
        AssertCleanError(Rnalm("fold", "ACGU"), 2, "--checkpoint");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "--threshold", "0", "ACGU"), 2, "--threshold");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "--threshold", "1.5", "ACGU"), 2, "--threshold", "1.5");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "--threshold", "half", "ACGU"), 2, "--threshold", "half");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "ACGU", ""), 2, "TEXT #2", "seq2", "empty");

        string before = File.ReadAllText(fasta);
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "--input", fasta, "--output", fasta), 2, "input FASTA");
        Assert.Equal(before, File.ReadAllText(fasta));
    }

    [Fact]
    public void FoldRefusesToOverwriteCheckpointFilesAndNamesMissingInputs()
    {
        // A copy of the checkpoint, so a failure of this check cannot damage the shared fixture.
        string copy = Path.Combine(_temp, "checkpoint");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(Checkpoint)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        string weights = Path.Combine(copy, "model.safetensors");
        long size = new FileInfo(weights).Length;
        AssertCleanError(Rnalm("fold", "--checkpoint", copy, "--output", weights, "ACGU"), 2, "checkpoint folder");
        Assert.Equal(size, new FileInfo(weights).Length);

        string missing = Path.Combine(_temp, "absent.fasta");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "--input", missing), 1, missing);
        string noCheckpoint = Path.Combine(_temp, "no-such-checkpoint");
        AssertCleanError(Rnalm("fold", "--checkpoint", noCheckpoint, "ACGU"), 1, noCheckpoint);

        string duplicates = Path.Combine(_temp, "duplicates.fasta");
        File.WriteAllText(duplicates, ">a\nACGU\n>a\nGGCC\n");
        AssertCleanError(Rnalm("fold", "--checkpoint", Checkpoint, "--input", duplicates), 1, $"{duplicates}:3", "'a'");
    }

    [Fact]
    public void FoldWithoutOutputWritesNoFile()
    {
        var result = Succeeds("fold", "--checkpoint", Checkpoint, "GGGAAACCC");
        var block = Assert.Single(ParseBlocks(result.Out));
        Assert.Equal("seq1", block.Name);
        Assert.Equal("GGGAAACCC", block.Tokens);
        Assert.Equal(9, block.Structure.Length);
        Assert.DoesNotContain("->", result.Err);
        Assert.Empty(Directory.GetFiles(_temp));
    }
}
