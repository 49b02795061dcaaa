using System;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Models;
using RnaLm.Training;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm evaluate</c>: masked-token accuracy of a pretrained checkpoint (default: the built-in model) against the
/// most-frequent-nucleotide baseline, or the metrics of a model written by <c>rnalm finetune</c>.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        var task = new Option<string>("--task") { Description = "mlm: mask nucleotides and predict them; sequence, token, contact, pair: a model from 'rnalm finetune'.", HelpName = "mlm|sequence|token|contact|pair", DefaultValueFactory = _ => "mlm" };
        var input = new Option<string>("--input") { Description = "FASTA or dot-bracket (.dbn) file, or a pair CSV (pair task).", HelpName = "FILE", Required = true };
        var shorterThan = new Option<int?>("--shorter-than") { Description = "Evaluate only records with fewer than N nucleotides (e.g. 600 for ArchiveII600).", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--shorter-than", 2) };
        var chunking = new TrainingOptionParsers.ChunkOptionSet();
        var checkpoint = new Option<string?>("--checkpoint") { Description = DefaultModel.CheckpointHelp, HelpName = "DIR" };
        var seed = new Option<long>("--seed") { Description = "Seed of the masks (mlm): record i is masked by a generator derived from (seed, i).", HelpName = "N", DefaultValueFactory = _ => 42, CustomParser = TrainingOptionParsers.Seed("--seed") };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (mlm: accuracy, baseline_accuracy, loss, tokens)." };
        var split = new Option<string>("--split") { Description = "Which records: all, or the train / held-out part of the hashed split 'rnalm pretrain' uses.", HelpName = "all|train|held-out", DefaultValueFactory = _ => "all" };
        var heldOut = new Option<double>("--held-out") { Description = "Held-out fraction of that split.", HelpName = "F", DefaultValueFactory = _ => 0.05, CustomParser = TrainingOptionParsers.Number("--held-out", 0, 1) };
        var limit = new Option<int?>("--limit") { Description = "Evaluate only the first N records (after --split), in file order.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--limit", 1) };
        var probability = new Option<double>("--mask-probability") { Description = "Fraction of nucleotides masked (mlm); all of them become <mask>.", HelpName = "P", DefaultValueFactory = _ => 0.15, CustomParser = TrainingOptionParsers.Number("--mask-probability", 0, 1, minimumExclusive: true) };
        var threshold = new Option<double>("--threshold") { Description = "Token and contact tasks: the probability at which a nucleotide or a pair counts as paired.", HelpName = "P", DefaultValueFactory = _ => 0.5, CustomParser = TrainingOptionParsers.Number("--threshold", 0, 1, minimumExclusive: true) };
        var batchSize = new Option<int>("--batch-size") { Description = "Records per forward pass (results do not depend on it).", HelpName = "N", DefaultValueFactory = _ => 32, CustomParser = OptionParsers.AtLeast("--batch-size", 1) };

        var command = new Command("evaluate", "Masked-nucleotide accuracy against the most-frequent-nucleotide baseline, or fine-tuned task metrics.");
        foreach (Option option in new Option[] { task, input, checkpoint, seed, json, split, heldOut, limit, shorterThan, probability, threshold, batchSize }) command.Options.Add(option);
        chunking.AddTo(command);
        command.SetAction(parse =>
        {
            string taskName = parse.GetValue(task)!;
            var dataSplit = TrainingOptionParsers.ParseSplit(parse.GetValue(split)!);
            string checkpointDir = parse.GetValue(checkpoint) ?? DefaultModel.Directory;
            if (parse.GetResult(threshold) is { Implicit: false } && taskName is not ("token" or "contact")) throw new UsageException("--threshold is for token and contact models.");
            if (taskName == "pair")
            {
                return EvaluatePairs(context, parse.GetRequiredValue(input), dataSplit, parse.GetValue(heldOut), parse.GetValue(limit), parse.GetValue(shorterThan),
                    checkpointDir, parse.GetValue(batchSize), parse.GetValue(json), parse.GetValue(split)!);
            }
            var records = SequenceFiles.Read(parse.GetRequiredValue(input), dataSplit, parse.GetValue(heldOut));
            int all = records.Count;
            if (parse.GetValue(shorterThan) is int shorter) records = records.Where(r => r.Sequence.Length < shorter).ToList();
            if (parse.GetValue(limit) is int n) records = records.Take(n).ToList();
            if (records.Count == 0) throw new CliException($"{parse.GetRequiredValue(input)}: no records to evaluate (split {parse.GetValue(split)}{(parse.GetValue(shorterThan) is int m ? $", shorter than {m} nt" : "")}).");
            var device = TorchSetup.Device;
            if (taskName == "mlm")
            {
                using var loaded = Checkpoint.Load(checkpointDir, context.Registry, device);
                var metrics = MlmEvaluator.Evaluate(loaded.Model, loaded.Tokenizer, records.Select(r => r.Sequence).ToList(), parse.GetValue(seed),
                    parse.GetValue(batchSize), null, parse.GetValue(probability), device);
                context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rnalm evaluate: {metrics.Records} records of {parse.GetRequiredValue(input)}, {metrics.MaskedTokens} masked tokens, baseline predicts '{metrics.BaselineToken}', checkpoint {checkpointDir}"));
                if (parse.GetValue(json))
                {
                    JsonOutput.Write(context.Out, indented: false, writer =>
                    {
                        writer.WriteStartObject();
                        JsonOutput.WriteRounded(writer, "accuracy", metrics.Accuracy);
                        JsonOutput.WriteRounded(writer, "baseline_accuracy", metrics.BaselineAccuracy);
                        JsonOutput.WriteRounded(writer, "loss", metrics.Loss);
                        writer.WriteNumber("tokens", metrics.MaskedTokens);
                        writer.WriteEndObject();
                    });
                }
                else
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"masked-token accuracy {metrics.Accuracy:P2} (baseline, always '{metrics.BaselineToken}': {metrics.BaselineAccuracy:P2}; margin {100 * (metrics.Accuracy - metrics.BaselineAccuracy):F2} points), loss {metrics.Loss:F4}, {metrics.MaskedTokens} masked tokens"));
                }
                return ExitCodes.Success;
            }

            var predictionTask = FinetuneCommand.ParseTask(taskName);
            using var model = FineTuning.Load(checkpointDir, context.Registry, device);
            if (model.Task != predictionTask)
            {
                throw new UsageException($"'{checkpointDir}' is a {model.Task.ToString().ToLowerInvariant()} model, not {taskName}.");
            }
            var examples = predictionTask == PredictionTask.Sequence
                ? TaskData.ForSequenceClassification(records, model.Labels).Examples
                : TaskData.ForStructure(records);
            var chunkOptions = chunking.Read(parse);
            var evaluator = new FineTuningTask(model.Model, model.Family, model.Config, model.Tokenizer, examples, examples,
                FineTuning.NumLabels(model.Task, model.Labels.Count), device, chunkOptions, model.Stack, threshold: parse.GetValue(threshold));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = evaluator.EvaluateOn(examples, 0, parse.GetValue(batchSize));
            int longRecords = examples.Count(e => e.Sequence.Length > TaskInputs.MaxContent(model.Tokenizer, model.Config, model.Stack is not null));
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm evaluate: {examples.Count} of {all} records of {parse.GetRequiredValue(input)}, {model.Task.ToString().ToLowerInvariant()} model {checkpointDir}{(model.Stack is { } stack ? $" (STACK, top {stack.TopK})" : "")}, {longRecords} longer than the model ({chunkOptions.Policy.ToString().ToLowerInvariant()}){(model.Task == PredictionTask.Sequence ? "" : $", paired at probability {parse.GetValue(threshold)}")}, {clock.Elapsed.TotalSeconds:F1} s"));
            return WriteResult(context, result, parse.GetValue(json));
        });
        return command;
    }

    private static int EvaluatePairs(CliContext context, string inputPath, DataSplit split, double heldOut, int? limit, int? shorterThan, string checkpointDir,
        int batchSize, bool asJson, string splitName)
    {
        var pairs = PairFiles.Split(PairFiles.Read(inputPath, requireLabels: true), split, heldOut);
        int all = pairs.Count;
        if (shorterThan is int shorter) pairs = pairs.Where(p => p.A.Length < shorter && p.B.Length < shorter).ToList();
        if (limit is int n) pairs = pairs.Take(n).ToList();
        if (pairs.Count == 0) throw new CliException($"{inputPath}: no pairs to evaluate (split {splitName}).");
        var device = TorchSetup.Device;
        using var model = PairPredictor.Load(checkpointDir, context.Registry, device);
        var evaluator = new PairTrainingTask(model.Model, model.Family, model.Config, model.Tokenizer, pairs, pairs, device);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = evaluator.EvaluateOn(pairs, 0, batchSize);
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rnalm evaluate: {pairs.Count} of {all} pairs of {inputPath} ({pairs.Count(p => p.Label == 1)} positive), pair model {checkpointDir}, {clock.Elapsed.TotalSeconds:F1} s"));
        return WriteResult(context, result, asJson);
    }

    /// <summary>The metrics of a task evaluation: one JSON object, or the evaluation's one-line summary.</summary>
    private static int WriteResult(CliContext context, Evaluation result, bool asJson)
    {
        if (asJson)
        {
            JsonOutput.Write(context.Out, indented: false, writer =>
            {
                writer.WriteStartObject();
                foreach (var (name, value) in result.Metrics) JsonOutput.WriteRounded(writer, name, value);
                writer.WriteEndObject();
            });
        }
        else
        {
            context.Out.WriteLine(result.ToString());
        }
        return ExitCodes.Success;
    }
}
