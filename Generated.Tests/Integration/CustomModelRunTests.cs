using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Tests.Generator;
using Xunit;

namespace RnaLm.Tests.Integration;

/// <summary>
/// Runs samples/CustomModel in process on its FASTA file: the user-declared TinyRNA family is registered, every record
/// gets an embedding norm and MLM predictions, the checkpoint folder round-trips through the runtime, and a fixed
/// seed gives the same numbers twice.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CustomModelRunTests
{
    private static string Fasta => Path.Combine(GeneratorHarness.RepoRoot(), "samples", "CustomModel", "data", "ncrna-sample.fasta");

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = CustomModel.Program.Run(args, stdout, stderr);
        return (exit, stdout.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), stderr.ToString());
    }

    [Theory]
    [InlineData("tinyrna", 12)]
    [InlineData("tinyrna-2mer", 42)]
    public void RunsOnTheFastaAndRoundTripsTheCheckpoint(string model, int vocabulary)
    {
        string dir = Path.Combine(Path.GetTempPath(), "rnalm-tinyrna-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        try
        {
            var first = Run("--model", model, "--fasta", Fasta, "--checkpoint", dir, "--seed", "7");
            Assert.True(first.Exit == 0, first.Out + first.Err);
            var records = FastaReader.Read(Fasta).ToList();
            Assert.Equal(6, records.Count);
            foreach (var record in records)
            {
                Assert.Matches(new Regex($@"^{Regex.Escape(record.Name)} \(.*\): \d+ tokens, \|embedding\| = \d+\.\d{{4}}, top-1 at \d+ masked tokens", RegexOptions.Multiline), first.Out);
            }
            Assert.Contains($"vocabulary {vocabulary}): max |logits difference| = 0\n", first.Out, StringComparison.Ordinal);
            foreach (var file in new[] { Checkpoint.ConfigFile, Checkpoint.VocabFile, Checkpoint.TokenizerConfigFile, Checkpoint.WeightsFile })
            {
                Assert.True(File.Exists(Path.Combine(dir, file)), $"{file} was not written");
            }
            Assert.Contains("\"model_type\": \"tinyrna\"", File.ReadAllText(Path.Combine(dir, Checkpoint.ConfigFile)), StringComparison.Ordinal);
            Assert.Equal(vocabulary, File.ReadAllLines(Path.Combine(dir, Checkpoint.VocabFile)).Length);

            // Same seed, same model, same output (the checkpoint folder is simply rewritten).
            var second = Run("--model", model, "--fasta", Fasta, "--checkpoint", dir, "--seed", "7");
            Assert.Equal(first.Out, second.Out);
            var other = Run("--model", model, "--fasta", Fasta, "--checkpoint", dir, "--seed", "8");
            Assert.NotEqual(first.Out, other.Out);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void UsageErrorsExitWithTwo()
    {
        var unknown = Run("--model", "splicebert");
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("this project declares tinyrna, tinyrna-2mer", unknown.Err, StringComparison.Ordinal);
        Assert.Equal(2, Run("--frobnicate").Exit);
        var missing = Run("--fasta", Path.Combine(Path.GetTempPath(), "no-such-file.fasta"));
        Assert.Equal(1, missing.Exit);
        Assert.Contains("does not exist", missing.Err, StringComparison.Ordinal);
    }
}
