using System;
using System.IO;
using System.Text.Json.Nodes;
using RnaLm.Cli;
using RnaLm.Tests.Cli;
using Xunit;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// Smaller command-line defects: usage errors that surfaced as runtime errors with .NET parameter names, arguments
/// starting with <c>@</c> read as response files, and a batch-level rejection naming records that were fine.
/// </summary>
public sealed class CommandLineEdgeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-cli-edges-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("1")]
    public void TruncationToFewerTokensThanTheSpecialTokensIsAUsageError(string maxLength)
    {
        var result = CliHarness.Rnalm("tokenize", "--model", "splicebert", "--max-length", maxLength, "--truncation", "ACGU");
        CliHarness.AssertCleanError(result, ExitCodes.Usage, $"--max-length {maxLength}", "special tokens");
        Assert.DoesNotContain("(Parameter", result.Err);
    }

    [Fact]
    public void TruncationWithAPairCountsThePairsSpecialTokens()
    {
        var result = CliHarness.Rnalm("tokenize", "--model", "splicebert", "--max-length", "2", "--truncation", "--pair", "GG", "ACGU");
        CliHarness.AssertCleanError(result, ExitCodes.Usage, "--max-length 2", "special tokens");
        CliHarness.Succeeds("tokenize", "--model", "splicebert", "--max-length", "3", "--truncation", "ACGU");
    }

    [Fact]
    public void ArgumentsStartingWithAnAtSignAreTextNotResponseFiles()
    {
        string file = Path.Combine(_dir, "args.txt");
        File.WriteAllText(file, "--no-special-tokens\n");
        var fromFile = CliHarness.Succeeds("tokenize", "--model", "splicebert", "@" + file);
        Assert.StartsWith("{\"input_ids\":[1,3,", fromFile.Out); // the text itself ('@' is unknown), with <cls>: the file was not read
        var missing = CliHarness.Succeeds("tokenize", "--model", "splicebert", "@ACGU");
        Assert.StartsWith("{\"input_ids\":[1,3,6,7,8,9,2]", missing.Out); // '@' is an unknown character, then A C G U
    }

    [Fact]
    public void ABatchRejectionNamesOnlyTheRecordsTheModelRejectsOnTheirOwn()
    {
        // Without a tokenizer limit, the model's 40 learned positions are the only check.
        string checkpoint = Path.Combine(_dir, "ckpt");
        Directory.CreateDirectory(checkpoint);
        foreach (string file in Directory.GetFiles(Fixtures.Models("splicebert"))) File.Copy(file, Path.Combine(checkpoint, Path.GetFileName(file)));
        string tokenizerConfig = Path.Combine(checkpoint, "tokenizer_config.json");
        var json = JsonNode.Parse(File.ReadAllText(tokenizerConfig))!.AsObject();
        json["model_max_length"] = null;
        File.WriteAllText(tokenizerConfig, json.ToJsonString());

        string fasta = Path.Combine(_dir, "in.fasta");
        File.WriteAllText(fasta, ">fine1\nACGUACGU\n>toolong\n" + new string('A', 50) + "\n>fine2\nGGCC\n");
        var result = CliHarness.Rnalm("embed", "--checkpoint", checkpoint, "--input", fasta, "--output", Path.Combine(_dir, "out.safetensors"));
        CliHarness.AssertCleanError(result, ExitCodes.Failure, "'toolong' (#2)", "max_position_embeddings 40");
        Assert.DoesNotContain("fine1", result.Err);
        Assert.DoesNotContain("fine2", result.Err);
    }
}
