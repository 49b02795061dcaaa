using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using RnaLm.Checkpoints;
using RnaLm.Cli;
using RnaLm.Models;
using RnaLm.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// A hostile or inconsistent <c>config.json</c> (or tokenizer files) is refused before a model is sized from it:
/// out-of-range values by the family's rules, and sizes that do not describe the weight file by its header, within a
/// second, without allocating the model, with errors naming the file and the field.
/// </summary>
public sealed class HostileConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-hostile-config-").FullName;
    private readonly ITestOutputHelper _output;

    public HostileConfigTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CopyFixture(string variant, string? name = null)
    {
        string target = Path.Combine(_dir, name ?? variant);
        Directory.CreateDirectory(target);
        foreach (string file in new[] { "config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors" })
        {
            File.Copy(Path.Combine(Fixtures.Models(variant), file), Path.Combine(target, file));
        }
        return target;
    }

    private static void Edit(string dir, string file, Action<JsonObject> edit)
    {
        string path = Path.Combine(dir, file);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Loads the folder, expecting <typeparamref name="T"/>; returns it with the time taken and the growth of the resident set.</summary>
    private (T Error, TimeSpan Time, long ResidentGrowth) Refused<T>(string dir) where T : Exception
    {
        using var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        long before = process.WorkingSet64;
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<T>(() => Checkpoint.Load(dir, ModelCatalog.Registry).Dispose());
        var time = clock.Elapsed;
        process.Refresh();
        return (e, time, process.WorkingSet64 - before);
    }

    [Theory]
    [InlineData("num_hidden_layers", 1_000_000_000L, "num_hidden_layers is 1,000,000,000, more than the largest supported value")]
    [InlineData("hidden_size", 1_000_000_000L, "hidden_size is 1,000,000,000")]
    [InlineData("intermediate_size", 1_000_000_000L, "intermediate_size is 1,000,000,000")]
    [InlineData("vocab_size", 1_000_000_000L, "vocab_size is 1,000,000,000")]
    [InlineData("max_position_embeddings", 1_000_000_000L, "max_position_embeddings is 1,000,000,000")]
    [InlineData("num_attention_heads", 1_000_000_000L, "num_attention_heads is 1,000,000,000")]
    public void AbsurdSizesAreRefusedByTheFamilysRules(string field, long value, string expected)
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json => json[field] = value);
        var (e, time, growth) = Refused<ConfigException>(dir);
        Assert.Contains(Path.Combine(dir, "config.json"), e.Message);
        Assert.Contains(expected, e.Message);
        _output.WriteLine($"{field} = {value:N0}: refused in {time.TotalMilliseconds:F0} ms, resident set +{growth / 1e6:F1} MB");
        Assert.True(time < TimeSpan.FromSeconds(1), $"took {time}");
        Assert.True(growth < 100_000_000, $"the resident set grew by {growth:N0} bytes");
    }

    [Theory]
    [InlineData("layer_norm_eps", -1.0, "layer_norm_eps must be a positive number")]
    [InlineData("layer_norm_eps", 0.0, "layer_norm_eps must be a positive number")]
    [InlineData("hidden_dropout", 5.0, "hidden_dropout must be a probability in [0, 1), found 5")]
    [InlineData("hidden_dropout", 1.0, "hidden_dropout must be a probability in [0, 1), found 1")]
    [InlineData("attention_dropout", -0.1, "attention_dropout must be a probability in [0, 1), found -0.1")]
    [InlineData("initializer_range", -0.02, "initializer_range must be a non-negative number")]
    [InlineData("num_labels", 0.0, "num_labels must be at least 1, found 0")]
    public void OutOfRangeValuesAreRefusedNamingTheFileAndTheField(string field, double value, string expected)
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json => json[field] = value);
        var (e, time, _) = Refused<ConfigException>(dir);
        Assert.Contains(Path.Combine(dir, "config.json"), e.Message);
        Assert.Contains(expected, e.Message);
        Assert.True(time < TimeSpan.FromSeconds(1), $"took {time}");
    }

    [Theory]
    [InlineData("num_attention_heads", 1.0, "needs at least 2 heads")]
    [InlineData("pairwise_alpha", 1e300, "pairwise_alpha is 1E+300")]
    [InlineData("pairwise_alpha", -1e5, "pairwise_alpha is -100000")]
    public void ValuesTheBasePairingPriorCannotUseAreRefused(string field, double value, string expected)
    {
        string dir = CopyFixture("ernierna");
        Edit(dir, "config.json", json => json[field] = value);
        var (e, _, _) = Refused<ConfigException>(dir);
        Assert.Contains(Path.Combine(dir, "config.json"), e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
    }

    [Fact]
    public void ANegativeEpsilonInTheMlmHeadIsRefusedToo()
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json => json["lm_head"] = new JsonObject { ["layer_norm_eps"] = -1e-5 });
        var (e, _, _) = Refused<ConfigException>(dir);
        Assert.Contains("lm_head.layer_norm_eps must be a positive number", e.Message);
    }

    [Fact]
    public void SizesWithinTheRulesThatTheWeightsCannotHoldAreRefusedWithoutAllocatingTheModel()
    {
        // 1,024 layers of hidden 16,384 and intermediate 65,536: 3.3 trillion parameters, 13 TB as float32.
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json =>
        {
            json["num_hidden_layers"] = 1024;
            json["hidden_size"] = 16384;
            json["intermediate_size"] = 65536;
        });
        var (e, time, growth) = Refused<ConfigException>(dir);
        Assert.Contains(Path.Combine(dir, "config.json"), e.Message);
        Assert.Contains(Path.Combine(dir, "model.safetensors"), e.Message);
        Assert.Contains("num_hidden_layers 1024", e.Message);
        Assert.Contains("the config does not describe these weights", e.Message);
        _output.WriteLine($"13 TB model: refused in {time.TotalMilliseconds:F0} ms, resident set +{growth / 1e6:F1} MB");
        Assert.True(time < TimeSpan.FromSeconds(1), $"took {time}");
        Assert.True(growth < 100_000_000, $"the resident set grew by {growth:N0} bytes");
    }

    [Fact]
    public void ShapesThatDoNotMatchTheHeaderAreAllReportedBeforeTheModelIsBuilt()
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json => json["intermediate_size"] = 63);
        var (e, time, _) = Refused<CheckpointMismatchException>(dir);
        Assert.Contains(Path.Combine(dir, "model.safetensors"), e.Message);
        Assert.Contains(Path.Combine(dir, "config.json") + " describes", e.Message);
        // Two layers, each with the intermediate weight and bias and the output weight: all six at once.
        Assert.Equal(6, e.ShapeMismatches.Count);
        Assert.Contains(e.ShapeMismatches, m => m.StartsWith("model.encoder.layer.1.intermediate.dense.weight: checkpoint [64, 32]", StringComparison.Ordinal)
            && m.EndsWith("model [63, 32]", StringComparison.Ordinal));
        Assert.True(time < TimeSpan.FromSeconds(1), $"took {time}");
    }

    [Fact]
    public void FewerLayersThanTheWeightsHoldAreUnexpectedKeys()
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json => json["num_hidden_layers"] = 1);
        var (e, _, _) = Refused<CheckpointMismatchException>(dir);
        Assert.NotEmpty(e.Unexpected);
        Assert.All(e.Unexpected, key => Assert.StartsWith("model.encoder.layer.1.", key));
        Assert.Empty(e.Missing);
    }

    [Fact]
    public void AThreeMerTokenizerOverASingleNucleotideVocabularyIsRefused()
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "tokenizer_config.json", json => json["nmers"] = 3);
        var (e, time, _) = Refused<FormatException>(dir);
        Assert.Contains(Path.Combine(dir, "tokenizer_config.json"), e.Message);
        Assert.Contains(Path.Combine(dir, "vocab.txt"), e.Message);
        Assert.Contains("nmers is 3, but the vocabulary's token 'A' (id 6) is not a 3-mer", e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
        Assert.True(time < TimeSpan.FromSeconds(1), $"took {time}");
    }

    [Fact]
    public void ASingleNucleotideTokenizerOverAThreeMerVocabularyIsRefused()
    {
        string dir = CopyFixture("ncrnabert-3mer");
        Edit(dir, "tokenizer_config.json", json => json["nmers"] = 1);
        var (e, _, _) = Refused<FormatException>(dir);
        Assert.Contains("nmers is 1, but the vocabulary's token 'AAA' (id 6) is not a 1-mer", e.Message);
    }

    [Theory]
    [InlineData(1, "says nmers 1")]
    [InlineData(null, "says nmers null (single nucleotides)")]
    [InlineData(4, "says nmers 4")]
    public void ConfigNmersThatDisagreesWithTheTokenizerIsRefusedNamingBothFiles(int? nmers, string expected)
    {
        string dir = CopyFixture("ncrnabert-3mer");
        Edit(dir, "config.json", json => json["nmers"] = nmers);
        var (e, _, _) = Refused<ConfigException>(dir);
        Assert.Contains(Path.Combine(dir, "config.json") + " " + expected, e.Message);
        Assert.Contains(Path.Combine(dir, "tokenizer_config.json") + " says nmers 3", e.Message);
    }

    [Fact]
    public void ADuplicateKeyInConfigJsonNamesTheFileAndTheKey()
    {
        string dir = CopyFixture("splicebert");
        string path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"hidden_size\": 32,", "\"hidden_size\": 32,\n  \"hidden_size\": 48,"));
        var (e, _, _) = Refused<ConfigException>(dir);
        Assert.Contains(path, e.Message);
        Assert.Contains("the key 'hidden_size' appears twice in the same object (line", e.Message);
    }

    [Fact]
    public void ALoneSurrogateInConfigJsonIsAConfigError()
    {
        string dir = CopyFixture("splicebert");
        string path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"gelu\\ud800\""));
        var (e, _, _) = Refused<ConfigException>(dir);
        Assert.Contains(path, e.Message);
        Assert.Contains("lone surrogate", e.Message);
    }

    [Fact]
    public void ConfigJsonThatIsAFolderIsAConfigError()
    {
        string dir = CopyFixture("splicebert");
        File.Delete(Path.Combine(dir, "config.json"));
        Directory.CreateDirectory(Path.Combine(dir, "config.json"));
        var (e, _, _) = Refused<ConfigException>(dir);
        Assert.Contains("not a regular file", e.Message);
    }

    [Fact]
    public void TheCommandLineRefusesAHostileConfigWithExitCodeOneAndTheField()
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json => json["layer_norm_eps"] = -1);
        string fasta = Path.Combine(_dir, "in.fasta");
        File.WriteAllText(fasta, ">a\nACGUACGU\n");
        string output = Path.Combine(_dir, "out.safetensors");
        var result = CliHarness.Rnalm("embed", "--checkpoint", dir, "--input", fasta, "--output", output);
        CliHarness.AssertCleanError(result, ExitCodes.Failure, Path.Combine(dir, "config.json"), "layer_norm_eps");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void PretrainingAModelTooLargeForTheMachineIsRefusedBeforeAllocation()
    {
        string data = Path.Combine(_dir, "train.dbn");
        File.WriteAllText(data, ">a\nGGGAAACCC\n(((...)))\n>b\nGGGGAAAACCCC\n((((....))))\n");
        string output = Path.Combine(_dir, "big");
        var clock = Stopwatch.StartNew();
        var result = CliHarness.Rnalm("pretrain", "--train", data, "--output", output, "--hidden", "65536", "--heads", "16", "--layers", "1024",
            "--intermediate", "262144", "--held-out", "0", "--steps", "1");
        CliHarness.AssertCleanError(result, ExitCodes.Failure, "pretrain: the model has about", "GB of memory is available");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.False(Directory.Exists(Path.Combine(output, "final")));
    }

    [Fact]
    public void FineTuningFromScratchStillChecksTheCheckpointConfigAgainstItsWeights()
    {
        string dir = CopyFixture("splicebert");
        Edit(dir, "config.json", json =>
        {
            json["num_hidden_layers"] = 1024;
            json["hidden_size"] = 16384;
            json["intermediate_size"] = 65536;
        });
        string data = Path.Combine(_dir, "train.fasta");
        File.WriteAllText(data, ">a x A\nGGGAAACCC\n>b x B\nGGGGAAAACCCC\n");
        var clock = Stopwatch.StartNew();
        var result = CliHarness.Rnalm("finetune", "--from-scratch", "--checkpoint", dir, "--train", data, "--output", Path.Combine(_dir, "ft"), "--steps", "1");
        CliHarness.AssertCleanError(result, ExitCodes.Failure, Path.Combine(dir, "config.json"), "the config does not describe these weights");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void EveryFixtureCheckpointStillPassesThePreflight()
    {
        foreach (string variant in new[] { "splicebert", "splicebert.510", "ernierna", "ernierna-legacy", "ernierna-ss", "rnaernie", "ncrnabert", "ncrnabert-3mer" })
        {
            using var loaded = Checkpoint.Load(Fixtures.Models(variant), ModelCatalog.Registry);
            Assert.True(loaded.Model.Module.parameters().All(p => p.device_type == TorchSharp.DeviceType.CPU), variant);
        }
        using var t = TorchSharp.torch.zeros(1);
        Assert.Equal(TorchSharp.DeviceType.CPU, t.device_type); // the default device is restored after the meta build
    }
}
