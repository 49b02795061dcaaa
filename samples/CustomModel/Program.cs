using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using CustomModel.Models;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Native;
using RnaLm.Tokenization;
using RnaLm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CustomModel;

/// <summary>
/// Runs the TinyRNA model declared in <c>tinyrna.model.json</c> on a FASTA file: builds it from its default config
/// with a fixed seed, prints each record's embedding norm and masked-LM top-1 predictions, then saves a checkpoint
/// folder and loads it back through the runtime, checking that the reloaded model computes the same outputs.
/// </summary>
public static class Program
{
    private const string Usage = "usage: CustomModel [--model tinyrna|tinyrna-2mer] [--fasta FILE] [--checkpoint DIR] [--seed N]";

    /// <summary>Every <see cref="MaskEvery"/>-th nucleotide token (from the first) is masked for the MLM demo.</summary>
    private const int MaskEvery = 8;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The whole program, with its output streams as parameters (the tests run it in process).</summary>
    /// <returns>0 on success, 1 when libtorch or a file cannot be read or the reloaded checkpoint differs, 2 on a usage error.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string modelName = TinyRnaVariants.TinyRnaName;
        string fasta = Path.Combine(AppContext.BaseDirectory, "data", "ncrna-sample.fasta");
        string checkpointDir = Path.Combine(AppContext.BaseDirectory, "tinyrna-checkpoint");
        long seed = 2024;
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            string? value = option is "--model" or "--fasta" or "--checkpoint" or "--seed" && i + 1 < args.Length ? args[++i] : null;
            switch (option)
            {
                case "--model" when value is not null: modelName = value; break;
                case "--fasta" when value is not null: fasta = value; break;
                case "--checkpoint" when value is not null: checkpointDir = value; break;
                case "--seed" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s): seed = s; break;
                default:
                    stderr.WriteLine($"CustomModel: unexpected argument '{option}'{(value is null ? "" : $" {value}")}.");
                    stderr.WriteLine(Usage);
                    return 2;
            }
        }

        // The generator registered every variant of the spec in ModelCatalog (namespace = this project's RootNamespace).
        if (!ModelCatalog.Registry.Variants.Any(v => v.Name == modelName))
        {
            stderr.WriteLine($"CustomModel: unknown model '{modelName}'; this project declares {string.Join(", ", ModelCatalog.Registry.Variants.Select(v => v.Name))}.");
            return 2;
        }

        try
        {
            // First, so that a native library that cannot load is reported by name and reason (exit code 1).
            LibTorch.Load();
            torch.set_num_threads(Math.Max(1, Math.Min(Environment.ProcessorCount, 2)));
            return RunModel(modelName, fasta, checkpointDir, seed, stdout);
        }
        catch (Exception e) when (e is IOException or FormatException or ConfigException or UnauthorizedAccessException or LibTorchLoadException)
        {
            stderr.WriteLine($"CustomModel: {e.Message}");
            return 1;
        }
    }

    private static int RunModel(string modelName, string fasta, string checkpointDir, long seed, TextWriter stdout)
    {
        var variant = ModelCatalog.Registry.GetVariant(modelName);
        var config = (TinyRnaConfig)variant.Config; // the generated config class, with the spec's defaults
        var tokenizer = variant.CreateTokenizer();   // the spec's vocabulary and tokenizer options
        stdout.WriteLine($"{variant.Name}: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, {config.NumAttentionHeads} heads, " +
            $"intermediate {config.IntermediateSize}, vocabulary {config.VocabSize}, {variant.Parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters, " +
            $"{config.ForwardFlops(128).ToString("N0", CultureInfo.InvariantCulture)} FLOPs per 128-token forward");
        stdout.WriteLine($"vocabulary: {string.Join(" ", tokenizer.Vocabulary.Tokens.Skip(Vocabulary.SpecialTokens.Count).Take(12))}{(tokenizer.Vocabulary.Count > 18 ? " …" : "")}");

        // A freshly initialised (untrained) model: same seed, same weights, same numbers on every run.
        torch.manual_seed(seed);
        using var model = new TinyRnaForMaskedLM(config);
        model.eval();

        var records = FastaReader.Read(fasta).ToList();
        stdout.WriteLine($"{records.Count} records from {fasta} (seed {seed}; the model is untrained, so predictions are chance level)");
        int maskId = tokenizer.Vocabulary.MaskId ?? throw new InvalidOperationException("The vocabulary has no <mask> token.");
        foreach (var record in records)
        {
            using var scope = NewDisposeScope();
            using var noGrad = inference_mode();
            var encoded = tokenizer.Encode(record.Sequence);
            if (encoded.ExceedsModelMaxLength)
            {
                stdout.WriteLine($"{record.Name}: {encoded.Length} tokens is longer than {tokenizer.Options.ModelMaxLength}; skipped");
                continue;
            }
            var (ids, mask) = encoded.ToTensors();

            // Embedding: mean of the last hidden state over the nucleotide tokens (special tokens left out).
            var hidden = model.Forward(ids, mask).Backbone.LastHiddenState[0];                 // [L, H]
            var real = Enumerable.Range(0, encoded.Length).Where(i => !tokenizer.IsSpecialToken(encoded.InputIds[i])).ToArray();
            var embedding = hidden.index_select(0, tensor(real.Select(i => (long)i).ToArray())).mean(new long[] { 0 }); // [H]
            double norm = embedding.norm().item<float>();

            // Masked LM: hide every MaskEvery-th nucleotide token and take the top-1 non-special token at each of them.
            var masked = real.Where((_, k) => k % MaskEvery == 0).ToArray();
            var maskedIds = ids.clone();
            foreach (int p in masked) maskedIds[0, p].fill_(maskId);
            var logits = model.Forward(maskedIds, mask).Logits[0];                              // [L, V]
            var special = tensor(Enumerable.Range(0, config.VocabSize).Select(tokenizer.IsSpecialToken).ToArray());
            var top1 = logits.masked_fill(special, double.NegativeInfinity).argmax(-1).data<long>().ToArray(); // best non-special token
            int correct = masked.Count(p => top1[p] == encoded.InputIds[p]);
            string predictions = string.Join(" ", masked.Select(p => $"{encoded.Tokens[p]}→{tokenizer.IdToToken((int)top1[p])}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{record.Name} ({record.Description}): {encoded.Length} tokens, |embedding| = {norm:F4}, top-1 at {masked.Length} masked tokens ({correct} right): {predictions}"));
        }

        // Save a MultiMolecule-style checkpoint folder and load it back through the runtime.
        Directory.CreateDirectory(checkpointDir);
        CheckpointWriter.SaveModelFiles(checkpointDir, config, tokenizer, model, TinyRnaFamily.Instance.Naming);
        using var loaded = Checkpoint.Load(checkpointDir, ModelCatalog.Registry);
        double maxDifference = 0;
        foreach (var record in records)
        {
            using var scope = NewDisposeScope();
            using var noGrad = inference_mode();
            var encoded = loaded.Tokenizer.Encode(record.Sequence);
            if (encoded.ExceedsModelMaxLength) continue;
            if (!encoded.InputIds.SequenceEqual(tokenizer.Encode(record.Sequence).InputIds))
            {
                throw new InvalidDataException($"The reloaded tokenizer encodes {record.Name} differently.");
            }
            var (ids, mask) = encoded.ToTensors();
            var before = model.Forward(ids, mask).Logits;
            var after = loaded.Model.Forward(ids, mask).Logits;
            maxDifference = Math.Max(maxDifference, (before - after).abs().max().item<float>());
        }
        var files = new[] { Checkpoint.ConfigFile, Checkpoint.VocabFile, Checkpoint.TokenizerConfigFile, Checkpoint.WeightsFile };
        stdout.WriteLine($"saved {checkpointDir} ({string.Join(", ", files.Select(f => $"{f} {new FileInfo(Path.Combine(checkpointDir, f)).Length.ToString("N0", CultureInfo.InvariantCulture)} B"))})");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reloaded as {loaded.Family.Name} ({loaded.Config.ModelType}, vocabulary {loaded.Tokenizer.Vocabulary.Count}): max |logits difference| = {maxDifference:G3}"));
        return maxDifference == 0 ? 0 : 1;
    }
}
