using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm embed</c>: runs a checkpoint over every record of a FASTA file and writes per-record outputs (padding
/// removed) to a safetensors file, keyed <c>&lt;record&gt;.last_hidden_state</c> and so on.
/// </summary>
internal static class EmbedCommand
{
    private sealed record Settings(
        string Checkpoint, string Input, string Output, int BatchSize, bool HiddenStates, bool Attentions, bool Logits);

    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = DefaultModel.CheckpointHelp,
            HelpName = "DIR",
            DefaultValueFactory = _ => DefaultModel.Directory,
        };
        var input = new Option<string>("--input")
        {
            Description = "FASTA file; each record is named by the first word of its header.",
            HelpName = "FILE.fasta",
            Required = true,
        };
        var output = new Option<string>("--output")
        {
            Description = "safetensors file to write (replaced atomically when it exists).",
            HelpName = "FILE.safetensors",
            Required = true,
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Records per forward pass (outputs do not depend on it).",
            HelpName = "N",
            DefaultValueFactory = _ => 8,
            CustomParser = OptionParsers.AtLeast("--batch-size", 1),
        };
        var hiddenStates = new Option<bool>("--hidden-states")
        {
            Description = "Also write <name>.hidden_states.<i> [L, H] for i = 0 (embeddings) .. layers.",
        };
        var attentions = new Option<bool>("--attentions")
        {
            Description = "Also write <name>.attentions.<i> [heads, L, L] for every layer.",
        };
        var logits = new Option<bool>("--logits")
        {
            Description = "Also write <name>.mlm_logits [L, V] from the masked-language-model head.",
        };

        var command = new Command("embed", "Embed every record of a FASTA file and write the outputs to a safetensors file.");
        foreach (var option in new Option[] { checkpoint, input, output, batchSize, hiddenStates, attentions, logits })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => Execute(context, new Settings(
            parse.GetRequiredValue(checkpoint),
            parse.GetRequiredValue(input),
            parse.GetRequiredValue(output),
            parse.GetValue(batchSize),
            parse.GetValue(hiddenStates),
            parse.GetValue(attentions),
            parse.GetValue(logits))));
        return command;
    }

    private static int Execute(CliContext context, Settings settings)
    {
        var clock = Stopwatch.StartNew();
        OutputPaths.CheckFile(settings.Output, settings.Checkpoint, (settings.Input, "the input FASTA file"));
        OutputPaths.RemoveLeftovers(context, "embed", settings.Output);
        var records = FastaReader.Read(settings.Input).ToList();
        if (records.Count == 0)
        {
            throw new CliException($"FASTA file '{settings.Input}' has no records.");
        }

        var device = TorchSetup.Device;
        using var checkpoint = Checkpoint.Load(settings.Checkpoint, context.Registry, device);
        var tokenizer = checkpoint.Tokenizer;
        int[] lengths = records.Select(r => tokenizer.Encode(r.Sequence).Length).ToArray();
        CheckLengths(settings.Input, records, lengths, tokenizer.Options.ModelMaxLength);

        var outputs = new List<KeyValuePair<string, Tensor>>[records.Count];
        try
        {
            Run(checkpoint, settings, records, lengths, outputs, device);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["model_type"] = checkpoint.Config.ModelType,
                ["checkpoint"] = Path.GetFullPath(settings.Checkpoint),
            };
            try
            {
                SafeTensors.Save(settings.Output, outputs.SelectMany(o => o), metadata);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OutputPaths.WriteFailed(settings.Output, e);
            }
        }
        finally
        {
            foreach (var record in outputs)
            {
                if (record is null) continue;
                foreach (var (_, tensor) in record) tensor.Dispose();
            }
        }

        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rnalm embed: {records.Count} records, {lengths.Sum()} tokens, {clock.Elapsed.TotalSeconds:F2} s -> {settings.Output}"));
        return ExitCodes.Success;
    }

    /// <summary>
    /// Runs the model batch by batch. Records are sorted by token count (stable, so ties keep file order) to keep
    /// padding small; since padding only masks keys, a record's real rows do not depend on its batch companions.
    /// </summary>
    private static void Run(LoadedCheckpoint checkpoint, Settings settings, IReadOnlyList<FastaRecord> records, int[] lengths,
        List<KeyValuePair<string, Tensor>>[] outputs, Device device)
    {
        var model = checkpoint.Model;
        model.Module.eval();
        var request = (settings.HiddenStates ? OutputRequest.HiddenStates : OutputRequest.None)
            | (settings.Attentions ? OutputRequest.Attentions : OutputRequest.None);
        int[] order = Enumerable.Range(0, records.Count).OrderBy(i => lengths[i]).ToArray();
        var padToLongest = new EncodeOptions { Padding = PaddingStrategy.Longest };

        using var inference = torch.inference_mode();
        foreach (int[] batch in order.Chunk(settings.BatchSize))
        {
            using var scope = torch.NewDisposeScope();
            var encoding = checkpoint.Tokenizer.EncodeBatch(batch.Select(i => records[i].Sequence).ToList(), padToLongest);
            var (inputIds, attentionMask) = encoding.ToTensors(device);

            BackboneOutput backbone;
            Tensor? mlmLogits = null;
            try
            {
                if (settings.Logits)
                {
                    var result = model.Forward(inputIds, attentionMask, request);
                    backbone = result.Backbone;
                    mlmLogits = result.Logits;
                }
                else
                {
                    backbone = model.Backbone.Forward(inputIds, attentionMask, request);
                }
            }
            catch (ArgumentException e)
            {
                throw new CliException(Rejection(checkpoint, settings.Input, records, batch, e, request, device), e);
            }

            for (int row = 0; row < batch.Length; row++)
            {
                int index = batch[row];
                outputs[index] = Collect(records[index].Name, row, lengths[index], backbone, mlmLogits);
            }
        }
    }

    /// <summary>
    /// Says which records of a rejected batch the model rejects on their own (in a padded batch one long record makes
    /// the whole batch fail), each with its own reason; only when none fails alone is the batch as a whole named.
    /// </summary>
    private static string Rejection(LoadedCheckpoint checkpoint, string input, IReadOnlyList<FastaRecord> records, int[] batch,
        ArgumentException batchError, OutputRequest request, Device device)
    {
        var rejected = new List<string>();
        foreach (int i in batch)
        {
            using var scope = torch.NewDisposeScope();
            var (inputIds, attentionMask) = checkpoint.Tokenizer.Encode(records[i].Sequence).ToTensors(device);
            try
            {
                checkpoint.Model.Forward(inputIds, attentionMask, request);
            }
            catch (ArgumentException e)
            {
                rejected.Add($"{input}:{records[i].Line}: the model rejected record '{records[i].Name}' (#{i + 1}): {ErrorReport.MessageOf(e)}");
            }
        }
        if (rejected.Count > 0)
        {
            return string.Join("\n", rejected);
        }
        string names = string.Join(", ", batch.Order().Select(i => $"'{records[i].Name}' (#{i + 1})"));
        return $"{input}: the model rejected the batch of records {names}, although it accepts each alone: {ErrorReport.MessageOf(batchError)}";
    }

    /// <summary>Copies one batch row's outputs (real positions only) into tensors the caller owns, in key order.</summary>
    private static List<KeyValuePair<string, Tensor>> Collect(string name, int row, int length, BackboneOutput backbone, Tensor? mlmLogits)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        void Add(string key, Tensor view)
        {
            var owned = torch.empty(view.shape, view.dtype, torch.CPU);
            owned.copy_(view);
            owned.DetachFromDisposeScope();
            tensors.Add(new KeyValuePair<string, Tensor>($"{name}.{key}", owned));
        }
        Tensor Positions(Tensor batchTensor) => batchTensor.select(0, row).narrow(0, 0, length);

        Add("last_hidden_state", Positions(backbone.LastHiddenState));
        if (backbone.HiddenStates is { } hiddenStates)
        {
            for (int i = 0; i < hiddenStates.Count; i++) Add($"hidden_states.{i}", Positions(hiddenStates[i]));
        }
        if (backbone.Attentions is { } attentions)
        {
            for (int i = 0; i < attentions.Count; i++)
            {
                Add($"attentions.{i}", attentions[i].select(0, row).narrow(1, 0, length).narrow(2, 0, length));
            }
        }
        if (mlmLogits is not null)
        {
            Add("mlm_logits", Positions(mlmLogits));
        }
        return tensors;
    }

    private static void CheckLengths(string input, IReadOnlyList<FastaRecord> records, int[] lengths, int? maxTokens)
    {
        if (maxTokens is not int max) return;
        for (int i = 0; i < records.Count; i++)
        {
            if (lengths[i] > max)
            {
                throw new CliException(
                    $"{input}:{records[i].Line}: record '{records[i].Name}' (#{i + 1}) has {lengths[i]} tokens " +
                    $"(special tokens included), more than the model's maximum of {max}.");
            }
        }
    }
}
