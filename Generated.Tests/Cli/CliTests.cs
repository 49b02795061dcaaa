using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using RnaLm.Cli;
using RnaLm.IO;
using RnaLm.Tests.Parity;
using Xunit;
using static RnaLm.Tests.Cli.CliHarness;
using static TorchSharp.torch;

namespace RnaLm.Tests.Cli;

/// <summary>
/// The <c>rnalm</c> command line, run in process through <see cref="Program.Run"/> with captured output: the model
/// list, tokenization against the fixtures' cases.json, embeddings against outputs.safetensors, fill-mask, and
/// error reporting (message on stderr, non-zero exit code, no stack trace).
/// </summary>
public sealed class CliTests : IDisposable
{
    private const double EmbedAtol = 1e-4;

    private readonly string _temp = Directory.CreateTempSubdirectory("rnalm-cli-tests-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>Every checkpoint of ../shared/fixtures/models; tokenize and embed run on all of them.</summary>
    public static readonly string[] FixtureCheckpoints =
    {
        "ernierna", "ernierna-legacy", "ernierna-ss", "rnaernie", "ncrnabert", "ncrnabert-3mer", "splicebert", "splicebert.510",
        "rnafm", "mrnafm", "utrlm-te_el", "utrlm-mrl", "calm", "rinalmo", "utrbert-3mer", "utrbert-4mer", "rnabert",
    };

    /// <summary>The fixture checkpoints with a 1-mer vocabulary (one token per nucleotide), for fill-mask.</summary>
    public static readonly string[] OneMerCheckpoints =
        FixtureCheckpoints.Except(new[] { "ncrnabert-3mer", "mrnafm", "calm", "utrbert-3mer", "utrbert-4mer" }).ToArray();

    public static IEnumerable<object[]> AllCheckpoints() => FixtureCheckpoints.Select(v => new object[] { v });

    public static IEnumerable<object[]> OneMerCheckpointsData() => OneMerCheckpoints.Select(v => new object[] { v });

    /// <summary>
    /// Fixture folders of families whose spec has not landed yet. Each one is named here explicitly until its family is
    /// ported (then it moves to <see cref="FixtureCheckpoints"/>); the set only shrinks, and an unknown folder fails.
    /// </summary>
    public static readonly string[] NotYetPorted = { };

    [Fact]
    public void TheCheckpointListsCoverEveryFixture()
    {
        var present = Directory.GetDirectories(Path.Combine(Fixtures.SharedDir, "fixtures", "models")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Empty(FixtureCheckpoints.Intersect(NotYetPorted));
        Assert.Equal(present, FixtureCheckpoints.Concat(NotYetPorted).Order(StringComparer.Ordinal));
        foreach (string variant in FixtureCheckpoints)
        {
            int nmers = RnaLm.Tokenization.RnaTokenizer.FromDirectory(Fixtures.Models(variant)).Options.Nmers;
            Assert.True(OneMerCheckpoints.Contains(variant) == (nmers == 1), $"{variant} has nmers {nmers}");
        }
    }

    /// <summary>ncRNABert's residual stream reaches about 30, so its comparisons need the fixtures' relative term.</summary>
    private static double RelativeTolerance(string variant) => variant.StartsWith("ncrnabert", StringComparison.Ordinal) ? 1e-5 : 0;

    // ---------------------------------------------------------------- models

    [Fact]
    public void ModelsJsonListsEveryVariantWithItsParameterCount()
    {
        using var json = JsonDocument.Parse(Succeeds("models", "--json").Out);
        var byName = json.RootElement.EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);

        var splicebert = byName["splicebert"];
        Assert.Equal(19718656, splicebert.GetProperty("parameters").GetInt64());
        Assert.Equal("splicebert", splicebert.GetProperty("family").GetString());
        Assert.Equal(6, splicebert.GetProperty("layers").GetInt32());
        Assert.Equal(512, splicebert.GetProperty("hidden").GetInt32());
        Assert.Equal(16, splicebert.GetProperty("heads").GetInt32());
        Assert.Equal(2048, splicebert.GetProperty("intermediate").GetInt32());
        Assert.Equal(28, splicebert.GetProperty("vocab_size").GetInt32());
        Assert.Equal(1026, splicebert.GetProperty("max_tokens").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(splicebert.GetProperty("description").GetString()));
        foreach (string name in new[] { "splicebert.510", "splicebert-human.510" })
        {
            Assert.Equal(19455488, byName[name].GetProperty("parameters").GetInt64());
            Assert.Equal(512, byName[name].GetProperty("max_tokens").GetInt32());
        }
        foreach (var variant in byName.Values)
        {
            Assert.Equal(
                new[] { "name", "family", "layers", "hidden", "heads", "intermediate", "vocab_size", "max_tokens", "parameters", "description" },
                variant.EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public void ModelsTableShowsOneRowPerVariantWithThousandsSeparators()
    {
        var lines = Succeeds("models").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("name", lines[0]);
        Assert.Contains("max tokens", lines[0]);
        var row = Assert.Single(lines, l => l.StartsWith("splicebert ", StringComparison.Ordinal));
        Assert.EndsWith("19,718,656", row);
        Assert.Contains("1,026", row);
        Assert.Contains(lines, l => l.StartsWith("splicebert-human.510 ", StringComparison.Ordinal) && l.EndsWith("19,455,488", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- tokenize

    private static (int[] Ids, int[] Mask)[] ParseEncodings(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(new[] { "input_ids", "attention_mask" }, doc.RootElement.EnumerateObject().Select(p => p.Name));
            return (doc.RootElement.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                doc.RootElement.GetProperty("attention_mask").EnumerateArray().Select(x => x.GetInt32()).ToArray());
        }).ToArray();

    private static int[] Tokenize(params string[] args)
    {
        var encodings = ParseEncodings(Succeeds(["tokenize", .. args]).Out);
        return Assert.Single(encodings).Ids;
    }

    [Theory]
    [MemberData(nameof(AllCheckpoints))]
    public void TokenizeWithCheckpointReproducesTheFixtureCases(string variant)
    {
        string dir = Fixtures.Models(variant);
        foreach (var @case in FixtureCase.Load(dir))
        {
            for (int i = 0; i < @case.Sequences.Count; i++)
            {
                int real = (int)@case.AttentionMask[i].Sum();
                var (ids, mask) = Assert.Single(ParseEncodings(Succeeds("tokenize", "--checkpoint", dir, @case.Sequences[i]).Out));
                Assert.Equal(@case.InputIds[i].Take(real).Select(x => (int)x), ids);
                Assert.Equal(Enumerable.Repeat(1, real), mask);
            }
            if (@case.Padded)
            {
                var batch = ParseEncodings(Succeeds(["tokenize", "--checkpoint", dir, "--padding", "longest", .. @case.Sequences]).Out);
                Assert.Equal(@case.InputIds.Select(r => r.Select(x => (int)x).ToArray()), batch.Select(e => e.Ids));
                Assert.Equal(@case.AttentionMask.Select(r => r.Select(x => (int)x).ToArray()), batch.Select(e => e.Mask));
            }
        }
    }

    [Fact]
    public void TokenizeWithModelNamePrintsCompactJsonLines()
    {
        var result = Succeeds("tokenize", "--model", "splicebert", "ACGUN", "acgt");
        Assert.Equal(
            "{\"input_ids\":[1,6,7,8,9,10,2],\"attention_mask\":[1,1,1,1,1,1,1]}\n" +
            "{\"input_ids\":[1,6,7,8,9,2],\"attention_mask\":[1,1,1,1,1,1]}\n",
            result.Out.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal("", result.Err);
    }

    [Fact]
    public void TokenizeOptionFlagsChangeTheEncoding()
    {
        string[] model = ["--model", "splicebert"];
        Assert.Equal(new[] { 6, 7, 8, 9, 10 }, Tokenize([.. model, "--no-special-tokens", "ACGUN"]));
        Assert.Equal(new[] { 6, 7, 8, 9, 2 }, Tokenize([.. model, "--no-bos", "ACGU"]));
        Assert.Equal(new[] { 1, 6, 7, 8, 9 }, Tokenize([.. model, "--no-eos", "ACGU"]));
        Assert.Equal(new[] { 1, 3, 3, 9, 2 }, Tokenize([.. model, "--no-upper-case", "acU"]));
        Assert.Equal(new[] { 1, 6, 7, 8, 3, 2 }, Tokenize([.. model, "--no-t-to-u", "ACGT"]));
        Assert.Equal(new[] { 1, 6, 7, 8, 9, 2 }, Tokenize([.. model, "ACGT"]));
        Assert.Equal(new[] { 1, 6, 4, 9, 2 }, Tokenize([.. model, "A<mask>U"]));
        Assert.Equal(new[] { 1, 6, 7, 2 }, Tokenize([.. model, "--truncation", "--max-length", "4", "ACGUN"]));
        Assert.Equal(new[] { 1, 6, 7, 2, 8, 8, 2 }, Tokenize([.. model, "--pair", "GG", "AC"]));

        var padded = Assert.Single(ParseEncodings(Succeeds([
            "tokenize", .. model, "--padding", "max_length", "--max-length", "8", "ACGU"]).Out));
        Assert.Equal(new[] { 1, 6, 7, 8, 9, 2, 0, 0 }, padded.Ids);
        Assert.Equal(new[] { 1, 1, 1, 1, 1, 1, 0, 0 }, padded.Mask);

        var longest = ParseEncodings(Succeeds(["tokenize", .. model, "--padding", "longest", "--pair", "G", "ACGU", "A"]).Out);
        Assert.Equal(new[] { new[] { 1, 6, 7, 8, 9, 2, 8, 2 }, new[] { 1, 6, 2, 8, 2, 0, 0, 0 } }, longest.Select(e => e.Ids));
        Assert.Equal(new[] { new[] { 1, 1, 1, 1, 1, 1, 1, 1 }, new[] { 1, 1, 1, 1, 1, 0, 0, 0 } }, longest.Select(e => e.Mask));

        // Without --padding every text keeps its own length.
        Assert.Equal(new[] { 7, 3 }, ParseEncodings(Succeeds(["tokenize", .. model, "ACGUN", "A"]).Out).Select(e => e.Ids.Length));
    }

    [Fact]
    public void TokenizeWarnsWhenATextIsLongerThanTheModelAccepts()
    {
        var result = Succeeds("tokenize", "--checkpoint", Fixtures.Models("splicebert.510"), new string('A', 40));
        Assert.Equal(42, Assert.Single(ParseEncodings(result.Out)).Ids.Length);
        Assert.Contains("warning", result.Err);
        Assert.Contains("42 tokens", result.Err);
    }

    [Fact]
    public void TokenizeUsageErrorsExitWithCode2()
    {
        AssertCleanError(Rnalm("tokenize", "--model", "splicebert", "--checkpoint", Fixtures.Models("splicebert"), "ACGU"), 2, "at most one");
        AssertCleanError(Rnalm("tokenize", "--model", "no-such-model", "ACGU"), 2, "no-such-model", "splicebert");
        AssertCleanError(Rnalm("tokenize", "--model", "splicebert", "--padding", "max_length", "ACGU"), 2, "--max-length");
        AssertCleanError(Rnalm("tokenize", "--model", "splicebert", "--padding", "sideways", "ACGU"), 2, "sideways");
        AssertCleanError(Rnalm("tokenize", "--model", "splicebert", "--max-length", "0", "ACGU"), 2, "--max-length");
        AssertCleanError(Rnalm("tokenize", "--model", "splicebert"), 2, "argument missing", "tokenize");
        AssertCleanError(Rnalm("frobnicate"), 2, "frobnicate");
    }

    [Fact]
    public void TokenizeUsesTheBuiltInModelByDefaultLikeTheOtherCommands()
    {
        var byDefault = Succeeds("tokenize", "ACGUN");
        var builtIn = Succeeds("tokenize", "--checkpoint", Path.Combine(AppContext.BaseDirectory, "models", "rnalm-mini"), "ACGUN");
        Assert.Equal(builtIn.Out, byDefault.Out);
        Assert.Equal("{\"input_ids\":[1,6,7,8,9,10,2],\"attention_mask\":[1,1,1,1,1,1,1]}", byDefault.Out.Trim());
    }

    [Fact]
    public void TokenizeReadsOnlyTheTokenizerOfACheckpoint()
    {
        // A folder with config and tokenizer files but no weights: tokenize must not need model.safetensors.
        string source = Fixtures.Models("splicebert");
        string dir = Path.Combine(_temp, "tokenizer-only");
        Directory.CreateDirectory(dir);
        foreach (string file in new[] { "config.json", "vocab.txt", "tokenizer_config.json" })
        {
            File.Copy(Path.Combine(source, file), Path.Combine(dir, file));
        }
        Assert.Equal(new[] { 1, 6, 7, 8, 9, 10, 2 }, Tokenize("--checkpoint", dir, "ACGUN"));
    }

    [Fact]
    public void HelpIsAvailableForEveryCommand()
    {
        foreach (string[] args in new[] { new[] { "--help" }, ["models", "--help"], ["tokenize", "--help"], ["embed", "--help"], ["merge", "--help"], ["fill-mask", "--help"], ["fold", "--help"] })
        {
            var result = Succeeds(args);
            Assert.Contains("Usage:", result.Out);
        }
    }

    // ---------------------------------------------------------------- embed

    /// <summary>Writes every sequence of the fixture's cases.json as one record named <c>&lt;case&gt;_&lt;row&gt;</c>.</summary>
    private string WriteCasesFasta(IReadOnlyList<FixtureCase> cases)
    {
        var text = new StringBuilder();
        foreach (var @case in cases)
        {
            for (int i = 0; i < @case.Sequences.Count; i++)
            {
                text.Append('>').Append(@case.Name).Append('_').Append(i).Append(" row ").Append(i).Append(" of ").Append(@case.Name).Append('\n');
                string sequence = @case.Sequences[i];
                // Break long sequences over lines: the reader must join them exactly.
                for (int start = 0; start < sequence.Length; start += 10)
                {
                    text.Append(sequence, start, Math.Min(10, sequence.Length - start)).Append('\n');
                }
            }
        }
        string path = Path.Combine(_temp, "cases.fasta");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    [Theory]
    [MemberData(nameof(AllCheckpoints))]
    public void EmbedMatchesTheReferenceOutputsForAnyBatchSize(string variant)
    {
        string dir = Fixtures.Models(variant);
        var (_, config) = RnaLm.Checkpoints.Checkpoint.ReadConfig(dir, RnaLm.Models.ModelCatalog.Registry);
        double rtol = RelativeTolerance(variant);
        var cases = FixtureCase.Load(dir);
        string fasta = WriteCasesFasta(cases);
        string single = Path.Combine(_temp, "batch1.safetensors");
        string triple = Path.Combine(_temp, "batch3.safetensors");
        string[] common = ["embed", "--checkpoint", dir, "--input", fasta, "--hidden-states", "--attentions", "--logits"];
        var run1 = Succeeds([.. common, "--output", single, "--batch-size", "1"]);
        Succeeds([.. common, "--output", triple, "--batch-size", "3"]);
        int records = cases.Sum(c => c.Sequences.Count);
        Assert.Contains($"{records} records", run1.Err);
        Assert.Equal("", run1.Out);

        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "outputs.safetensors"));
        using var byOne = SafeTensorsFile.Open(single);
        using var byThree = SafeTensorsFile.Open(triple);
        Assert.Equal(config.ModelType, byOne.Metadata["model_type"]);
        Assert.Equal(Path.GetFullPath(dir), byOne.Metadata["checkpoint"]);

        int layers = config.NumHiddenLayers;
        var expectedKeys = new List<string>();
        int compared = 0;
        foreach (var @case in cases)
        {
            for (int row = 0; row < @case.Sequences.Count; row++)
            {
                string name = $"{@case.Name}_{row}";
                int length = (int)@case.AttentionMask[row].Sum();
                void Check(string suffix, Func<Tensor, Tensor> realPart)
                {
                    string key = $"{name}.{suffix}";
                    expectedKeys.Add(key);
                    using var scope = NewDisposeScope();
                    var reference = realPart(expected.Load($"{@case.Name}.{suffix}").select(0, row));
                    var one = byOne.Load(key);
                    var three = byThree.Load(key);
                    TensorAssert.Close(reference, one, EmbedAtol, rtol, $"{variant} {key} (batch size 1)");
                    TensorAssert.Close(reference, three, EmbedAtol, rtol, $"{variant} {key} (batch size 3)");
                    TensorAssert.Close(one, three, 1e-5, rtol, $"{variant} {key}: batch size 1 vs 3");
                    compared++;
                }
                Tensor Positions(Tensor t) => t.narrow(0, 0, length);
                Check("last_hidden_state", Positions);
                for (int i = 0; i <= layers; i++) Check($"hidden_states.{i}", Positions);
                for (int i = 0; i < layers; i++) Check($"attentions.{i}", t => t.narrow(1, 0, length).narrow(2, 0, length));
                Check("mlm_logits", Positions);
            }
        }
        // Nothing else is written, and records appear in file order.
        Assert.Equal(expectedKeys, byOne.Tensors.Select(t => t.Name));
        Assert.Equal(expectedKeys, byThree.Tensors.Select(t => t.Name));
        Assert.Equal(records * (1 + (layers + 1) + layers + 1), compared);
    }

    [Fact]
    public void EmbedWritesOnlyTheLastHiddenStateByDefault()
    {
        string dir = Fixtures.Models("splicebert");
        string fasta = Path.Combine(_temp, "two.fasta");
        File.WriteAllText(fasta, ">long one\nACGUACGUACGU\n>short\nacgt\n");
        string output = Path.Combine(_temp, "out.safetensors");
        Succeeds("embed", "--checkpoint", dir, "--input", fasta, "--output", output);
        using var file = SafeTensorsFile.Open(output);
        Assert.Equal(new[] { "long.last_hidden_state", "short.last_hidden_state" }, file.Tensors.Select(t => t.Name));
        Assert.Equal(new[] { 14L, 32L }, file.Tensors[0].Shape);
        Assert.Equal(new[] { 6L, 32L }, file.Tensors[1].Shape);
    }

    [Fact]
    public void EmbedReportsInputErrorsByNameAndPosition()
    {
        string dir = Fixtures.Models("splicebert.510");
        string output = Path.Combine(_temp, "out.safetensors");

        string duplicates = Path.Combine(_temp, "duplicates.fasta");
        File.WriteAllText(duplicates, ">a\nACGU\n>b\nGG\n>a again\nUU\n");
        AssertCleanError(Rnalm("embed", "--checkpoint", dir, "--input", duplicates, "--output", output), 1,
            $"{duplicates}:5", "duplicate record name 'a'");

        // splicebert.510's fixture accepts 36 tokens: 34 nucleotides plus <cls> and <eos>.
        string tooLong = Path.Combine(_temp, "long.fasta");
        File.WriteAllText(tooLong, $">ok\nACGU\n>fits\n{new string('A', 34)}\n>huge\n{new string('G', 35)}\n");
        AssertCleanError(Rnalm("embed", "--checkpoint", dir, "--input", tooLong, "--output", output), 1,
            "'huge'", "#3", "37 tokens", "36");

        AssertCleanError(Rnalm("embed", "--checkpoint", dir, "--input", Path.Combine(_temp, "absent.fasta"), "--output", output), 1,
            "absent.fasta");
        Assert.False(File.Exists(output));

        // A codon model cuts a record into triplets: a record whose length is not a multiple of 3 is named.
        string codons = Path.Combine(_temp, "codons.fasta");
        File.WriteAllText(codons, ">good\nATGAAACCC\n>bad_one\nATGAA\n");
        AssertCleanError(Rnalm("embed", "--checkpoint", Fixtures.Models("calm"), "--input", codons, "--output", output), 1,
            $"{codons}:3: record 'bad_one'", "length 5", "not a multiple of 3");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void EmbedRefusesToOverwriteItsInputsAndNeedsItsOptions()
    {
        string dir = Fixtures.Models("splicebert");
        string fasta = Path.Combine(_temp, "in.fasta");
        File.WriteAllText(fasta, ">a\nACGU\n");
        string before = File.ReadAllText(fasta);
        AssertCleanError(Rnalm("embed", "--checkpoint", dir, "--input", fasta, "--output", fasta), 2, "input FASTA");
        Assert.Equal(before, File.ReadAllText(fasta));

        // A copy of the checkpoint, so a failure of this check cannot damage the shared fixture.
        string copy = Path.Combine(_temp, "checkpoint");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(dir)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        string weights = Path.Combine(copy, "model.safetensors");
        long size = new FileInfo(weights).Length;
        AssertCleanError(Rnalm("embed", "--checkpoint", copy, "--input", fasta, "--output", weights), 2, "checkpoint folder");
        Assert.Equal(size, new FileInfo(weights).Length);

        AssertCleanError(Rnalm("embed", "--checkpoint", dir, "--input", fasta), 2, "--output");
        AssertCleanError(Rnalm("embed", "--checkpoint", dir, "--input", fasta, "--output", Path.Combine(_temp, "o.safetensors"), "--batch-size", "0"), 2,
            "--batch-size");
    }

    [Fact]
    public void MissingCheckpointFolderIsNamed()
    {
        string missing = Path.Combine(_temp, "no-such-checkpoint");
        string fasta = Path.Combine(_temp, "in.fasta");
        File.WriteAllText(fasta, ">a\nACGU\n");
        AssertCleanError(Rnalm("embed", "--checkpoint", missing, "--input", fasta, "--output", Path.Combine(_temp, "o.safetensors")), 1, missing);
        AssertCleanError(Rnalm("fill-mask", "--checkpoint", missing, "AC<mask>"), 1, missing);
        AssertCleanError(Rnalm("tokenize", "--checkpoint", missing, "ACGU"), 1, missing);
    }

    // ---------------------------------------------------------------- fill-mask

    private sealed record Candidate(double Score, int Token, string TokenStr, string Sequence);

    private static Candidate[] ParseCandidates(JsonElement list) => list.EnumerateArray().Select(c =>
    {
        Assert.Equal(new[] { "score", "token", "token_str", "sequence" }, c.EnumerateObject().Select(p => p.Name));
        return new Candidate(c.GetProperty("score").GetDouble(), c.GetProperty("token").GetInt32(),
            c.GetProperty("token_str").GetString()!, c.GetProperty("sequence").GetString()!);
    }).ToArray();

    /// <summary>The text with the mask replaced by the candidate; special tokens vanish from decoded sequences.</summary>
    private static string Filled(string text, Candidate c) => text.Replace("<mask>", c.TokenStr.StartsWith('<') ? "" : c.TokenStr, StringComparison.Ordinal);

    /// <summary>
    /// Asserts that <paramref name="candidates"/> are the top-k of the softmax of the reference MLM logits at the mask
    /// of the fixture's "masked" case: each score matches the reference probability of its token within 1e-5, and no
    /// token left out is more probable (beyond 1e-5) than the least probable one listed, so near-ties may swap.
    /// </summary>
    private static void AssertReferenceTopK(string dir, Candidate[] candidates, string what)
    {
        var masked = FixtureCase.Load(dir).Single(c => c.Name == "masked");
        long maskId = RnaLm.Tokenization.RnaTokenizer.FromDirectory(dir).Vocabulary.MaskId!.Value;
        int position = Assert.Single(Enumerable.Range(0, masked.InputIds[0].Length), i => masked.InputIds[0][i] == maskId);
        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "outputs.safetensors"));
        using var scope = NewDisposeScope();
        float[] probabilities = expected.Load("masked.mlm_logits").select(0, 0).select(0, position).softmax(-1).data<float>().ToArray();
        foreach (var c in candidates)
        {
            Assert.True(Math.Abs(c.Score - probabilities[c.Token]) <= 1e-5,
                $"{what}: token {c.Token} '{c.TokenStr}' has score {c.Score}, reference {probabilities[c.Token]}");
        }
        double kthReference = probabilities.OrderDescending().ElementAt(candidates.Length - 1);
        double leastListed = candidates.Min(c => (double)probabilities[c.Token]);
        Assert.True(leastListed >= kthReference - 1e-5, $"{what}: a more probable token than {leastListed} was left out ({kthReference})");
    }

    private static void AssertWellFormed(Candidate[] candidates, int topK)
    {
        Assert.Equal(topK, candidates.Length);
        Assert.Equal(candidates.OrderByDescending(c => c.Score).Select(c => c.Score), candidates.Select(c => c.Score));
        Assert.True(candidates.Sum(c => c.Score) <= 1 + 1e-5);
        Assert.All(candidates, c => Assert.InRange(c.Score, 0, 1));
        Assert.Equal(candidates.Length, candidates.Select(c => c.Token).Distinct().Count());
        Assert.All(candidates, c => Assert.DoesNotContain("<mask>", c.Sequence));
    }

    [Theory]
    [MemberData(nameof(OneMerCheckpointsData))]
    public void FillMaskRanksCandidatesLikeTheReferenceLogits(string variant)
    {
        string dir = Fixtures.Models(variant);
        string text = FixtureCase.Load(dir).Single(c => c.Name == "masked").Sequences[0];
        Assert.Contains("<mask>", text);
        var result = Succeeds("fill-mask", "--checkpoint", dir, text);
        using var json = JsonDocument.Parse(result.Out);
        var candidates = ParseCandidates(json.RootElement);

        AssertWellFormed(candidates, 5);
        var vocabulary = RnaLm.Tokenization.RnaTokenizer.FromDirectory(dir).Vocabulary;
        foreach (var c in candidates)
        {
            Assert.Equal(vocabulary[c.Token], c.TokenStr);
            Assert.Equal(Filled(text, c), c.Sequence);
        }
        AssertReferenceTopK(dir, candidates, variant);
    }

    [Fact]
    public void FillMaskOnThreeMerCheckpointPredictsKmersForTheOneMaskToken()
    {
        string dir = Fixtures.Models("ncrnabert-3mer");
        var tokenizer = RnaLm.Tokenization.RnaTokenizer.FromDirectory(dir);
        Assert.Equal(3, tokenizer.Options.Nmers);
        string text = FixtureCase.Load(dir).Single(c => c.Name == "masked").Sequences[0];

        // The chunks on each side of <mask> are k-merised independently, with one mask token between them.
        int[] ids = Tokenize("--checkpoint", dir, text);
        int maskId = tokenizer.Vocabulary.MaskId!.Value;
        int position = Assert.Single(Enumerable.Range(0, ids.Length), i => ids[i] == maskId);
        string before = text[..text.IndexOf("<mask>", StringComparison.Ordinal)];
        Assert.Equal(1 + (before.Length - 2), position);

        // One mask: a single list of candidates, not a list of lists.
        using var json = JsonDocument.Parse(Succeeds("fill-mask", "--checkpoint", dir, text).Out);
        Assert.Equal(JsonValueKind.Object, json.RootElement[0].ValueKind);
        var candidates = ParseCandidates(json.RootElement);
        AssertWellFormed(candidates, 5);
        AssertReferenceTopK(dir, candidates, "ncrnabert-3mer");
        foreach (var c in candidates)
        {
            Assert.Equal(tokenizer.Vocabulary[c.Token], c.TokenStr);
            int[] filled = (int[])ids.Clone();
            filled[position] = c.Token;
            Assert.Equal(tokenizer.Decode(filled, skipSpecialTokens: true), c.Sequence);
        }

        // Over the whole vocabulary the candidates are every token once: the 125 nucleotide 3-mers and the specials.
        using var all = JsonDocument.Parse(Succeeds("fill-mask", "--checkpoint", dir, "--top-k", "131", text).Out);
        var everything = ParseCandidates(all.RootElement);
        Assert.Equal(tokenizer.Vocabulary.Tokens.Order(StringComparer.Ordinal), everything.Select(c => c.TokenStr).Order(StringComparer.Ordinal));
        Assert.Equal(125, everything.Count(c => c.TokenStr.Length == 3 && c.TokenStr.All(n => "ACGUN".Contains(n, StringComparison.Ordinal))));
        Assert.InRange(everything.Sum(c => c.Score), 1 - 1e-4, 1 + 1e-4);
    }

    [Fact]
    public void FillMaskWithSeveralMasksPrintsOneListPerMask()
    {
        string text = "GGUC<mask>CUCUGG<mask>UAGACC";
        var result = Succeeds("fill-mask", "--checkpoint", Fixtures.Models("splicebert"), "--top-k", "3", text);
        using var json = JsonDocument.Parse(result.Out);
        var lists = json.RootElement.EnumerateArray().Select(ParseCandidates).ToArray();
        Assert.Equal(2, lists.Length);
        Assert.All(lists, list => Assert.Equal(3, list.Length));
        // As the Hugging Face pipeline writes it: each list fills its own mask and, with several masks, the sequence
        // keeps the special tokens, so the other mask stays where it is.
        Assert.All(lists[0], c => Assert.Equal("<cls>GGUC" + c.TokenStr + "CUCUGG<mask>UAGACC<eos>", c.Sequence));
        Assert.All(lists[1], c => Assert.Equal("<cls>GGUC<mask>CUCUGG" + c.TokenStr + "UAGACC<eos>", c.Sequence));
    }

    [Fact]
    public void FillMaskErrors()
    {
        string dir = Fixtures.Models("splicebert");
        AssertCleanError(Rnalm("fill-mask", "--checkpoint", dir, "GGUCCUCUGG"), 2, "<mask>");
        AssertCleanError(Rnalm("fill-mask", "--checkpoint", dir, "GGUC<MASK>CU"), 2, "<mask>");
        AssertCleanError(Rnalm("fill-mask", "--checkpoint", dir, "--top-k", "100", "A<mask>"), 2, "--top-k", "28");
        AssertCleanError(Rnalm("fill-mask", "--checkpoint", Fixtures.Models("splicebert.510"), new string('A', 40) + "<mask>"), 1,
            "43 tokens", "36");
    }
}
