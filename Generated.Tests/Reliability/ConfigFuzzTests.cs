using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// Seeded mutations of fixture checkpoint folders' <c>config.json</c>, <c>tokenizer_config.json</c> and
/// <c>vocab.txt</c>. Each case either loads a model whose outputs are finite and whose tokenizer knows the
/// nucleotides, or fails with one of the project's typed errors naming the folder — quickly, and without growing the
/// process by more than a small bound (no model sized from an absurd config is ever allocated).
/// </summary>
public sealed class ConfigFuzzTests : IDisposable
{
    private static readonly string[] Variants = { "splicebert", "ernierna", "rnaernie", "ncrnabert-3mer", "ernierna-ss" };

    private static readonly JsonNode?[] HostileValues =
    {
        0, -1, 1, 2, 3, 7, 64, 1_000_000_000, 2_147_483_647, 2_147_483_648L, 1e300, -1e-12, 1e-30, 0.5, 1.5, 5.0, 0.999,
        "x", "", "gelu", "relu", null, true, new JsonArray(), new JsonObject(), new JsonObject { ["layer_norm_eps"] = -1 },
        new JsonObject { ["transform_act"] = "nope" },
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-fuzz-config-").FullName;
    private readonly ITestOutputHelper _output;

    public ConfigFuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MutatedConfigurationFoldersLoadASaneModelOrFailWithATypedError()
    {
        int cases = FuzzSettings.Cases(250);
        int seed = FuzzSettings.Seed(17);
        var rng = new Random(seed);
        var folders = Variants.ToDictionary(v => v, v => Prepare(v));
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        using var process = Process.GetCurrentProcess();
        for (int i = 0; i < cases; i++)
        {
            string variant = Variants[rng.Next(Variants.Length)];
            string dir = folders[variant];
            Restore(variant, dir);
            string description = Mutate(dir, rng);
            process.Refresh();
            long before = process.WorkingSet64;
            var caseClock = Stopwatch.StartNew();
            string? problem = null;
            string outcome;
            try
            {
                using var loaded = Checkpoint.Load(dir, ModelCatalog.Registry);
                problem = CheckSane(loaded);
                outcome = "loaded";
            }
            catch (Exception e) when (e is ConfigException or CheckpointMismatchException or FormatException or FileNotFoundException)
            {
                outcome = e.GetType().Name;
                if (!e.Message.Contains(dir, StringComparison.Ordinal)) problem = $"the message does not name the folder: {e.Message}";
            }
            catch (Exception e)
            {
                outcome = "untyped";
                problem = e.ToString();
            }
            process.Refresh();
            long growth = process.WorkingSet64 - before;
            if (caseClock.Elapsed > TimeSpan.FromSeconds(5)) problem ??= $"took {caseClock.Elapsed}";
            if (growth > 200_000_000) problem ??= $"the resident set grew by {growth:N0} bytes";
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            if (problem is not null) failures.Add($"case {i} ({variant}: {description}): {outcome}: {problem}");
        }

        _output.WriteLine($"{cases} cases (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: " +
            string.Join(", ", outcomes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases failed:\n" + string.Join("\n", failures.Take(10)));
        Assert.True(outcomes.GetValueOrDefault("loaded") >= cases / 10, "too few mutations left a loadable folder");
        Assert.True(outcomes.GetValueOrDefault(nameof(ConfigException)) >= cases / 10, "too few mutations were refused as config errors");
    }

    private string Prepare(string variant)
    {
        string dir = Path.Combine(_dir, variant);
        Directory.CreateDirectory(dir);
        File.CreateSymbolicLink(Path.Combine(dir, Checkpoint.WeightsFile), Path.Combine(Fixtures.Models(variant), Checkpoint.WeightsFile));
        return dir;
    }

    private static void Restore(string variant, string dir)
    {
        foreach (string file in new[] { Checkpoint.ConfigFile, Checkpoint.VocabFile, Checkpoint.TokenizerConfigFile })
        {
            File.Copy(Path.Combine(Fixtures.Models(variant), file), Path.Combine(dir, file), overwrite: true);
        }
    }

    /// <summary>A loaded model must give finite outputs, and its tokenizer must know the four nucleotides.</summary>
    private static string? CheckSane(LoadedCheckpoint loaded)
    {
        var encoding = loaded.Tokenizer.Encode("ACGUACGUAC");
        int? unk = loaded.Tokenizer.Vocabulary.UnkId;
        if (encoding.InputIds.Where((_, i) => encoding.AttentionMask[i] == 1).Count(id => id != unk && !IsSpecial(loaded, id)) == 0)
        {
            return "the tokenizer turns every nucleotide into <unk>";
        }
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (ids, mask) = encoding.ToTensors(torch.CPU);
        try
        {
            var output = loaded.Model.Forward(ids, mask);
            if (!output.Logits.isfinite().all().item<bool>()) return "the logits are not all finite";
            if (!output.Backbone.LastHiddenState.isfinite().all().item<bool>()) return "the hidden states are not all finite";
        }
        catch (ArgumentException)
        {
            // A typed refusal of the input (e.g. a position table shorter than the text) is an answer, not garbage.
        }
        return null;
    }

    private static bool IsSpecial(LoadedCheckpoint loaded, int id)
    {
        var v = loaded.Tokenizer.Vocabulary;
        return id == v.BosId || id == v.EosId || id == v.PadId;
    }

    private static string Mutate(string dir, Random rng)
    {
        string configPath = Path.Combine(dir, Checkpoint.ConfigFile);
        string tokenizerPath = Path.Combine(dir, Checkpoint.TokenizerConfigFile);
        string vocabPath = Path.Combine(dir, Checkpoint.VocabFile);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        var keys = config.Select(kv => kv.Key).ToList();
        string key = keys[rng.Next(keys.Count)];
        switch (rng.Next(10))
        {
            case 0:
            case 1:
            case 2:
            {
                var value = HostileValues[rng.Next(HostileValues.Length)]?.DeepClone();
                config[key] = value;
                File.WriteAllText(configPath, config.ToJsonString());
                return $"config {key} = {value?.ToJsonString() ?? "null"}";
            }
            case 3:
                config.Remove(key);
                File.WriteAllText(configPath, config.ToJsonString());
                return $"config without {key}";
            case 4:
            {
                string text = config.ToJsonString();
                string duplicate = $"\"{key}\":{HostileValues[rng.Next(HostileValues.Length)]?.ToJsonString() ?? "null"},";
                File.WriteAllText(configPath, "{" + duplicate + text[1..]);
                return $"config with {key} twice";
            }
            case 5:
            {
                string text = File.ReadAllText(configPath);
                int cut = rng.Next(text.Length);
                string mutated = rng.Next(3) switch
                {
                    0 => text[..cut],
                    1 => text[..cut] + "\\ud800" + text[cut..],
                    _ => text[..cut] + "\"\\udc00\"" + text[cut..],
                };
                File.WriteAllText(configPath, mutated);
                return $"config text edited at {cut}";
            }
            case 6:
            {
                string[] fields = { "model_type", "architectures", "position_embedding_type", "nmers", "vocab_size", "num_hidden_layers", "hidden_size", "layer_norm_eps", "hidden_dropout" };
                string field = fields[rng.Next(fields.Length)];
                JsonNode? value = field switch
                {
                    "model_type" => new[] { "splicebert", "ernierna", "rnaernie", "ncrnabert", "rnalm-mini", "bert" }[rng.Next(6)],
                    "architectures" => new JsonArray(JsonValue.Create(new[] { "ErnieRnaForSecondaryStructurePrediction", "SpliceBertForPreTraining", "X" }[rng.Next(3)])),
                    "position_embedding_type" => new[] { "absolute", "rotary", "sinusoidal" }[rng.Next(3)],
                    "nmers" => rng.Next(5),
                    "vocab_size" => rng.Next(2) == 0 ? 26 : 131,
                    "num_hidden_layers" => rng.Next(0, 6),
                    "hidden_size" => 16 * rng.Next(0, 5),
                    "layer_norm_eps" => rng.Next(2) == 0 ? -1e-5 : 0.1,
                    _ => rng.NextDouble() * 2 - 0.5,
                };
                config[field] = value;
                File.WriteAllText(configPath, config.ToJsonString());
                return $"config {field} = {value?.ToJsonString() ?? "null"}";
            }
            case 7:
            {
                var tokenizer = JsonNode.Parse(File.ReadAllText(tokenizerPath))!.AsObject();
                string field = new[] { "nmers", "model_max_length", "bos_token", "eos_token", "do_upper_case" }[rng.Next(5)];
                var value = HostileValues[rng.Next(HostileValues.Length)]?.DeepClone();
                tokenizer[field] = value;
                File.WriteAllText(tokenizerPath, tokenizer.ToJsonString());
                return $"tokenizer_config {field} = {value?.ToJsonString() ?? "null"}";
            }
            default:
            {
                var lines = File.ReadAllLines(vocabPath).ToList();
                int at = rng.Next(lines.Count);
                string what;
                switch (rng.Next(4))
                {
                    case 0: lines.RemoveAt(at); what = "removed"; break;
                    case 1: lines.Insert(at, lines[rng.Next(lines.Count)]); what = "duplicated"; break;
                    case 2: lines[at] = "XYZ"; what = "replaced by XYZ"; break;
                    default: lines[at] = ""; what = "emptied"; break;
                }
                File.WriteAllText(vocabPath, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
                return $"vocab line {at + 1} {what}";
            }
        }
    }
}
