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
        var task = new Option<string>("--task") { Description = "mlm: mask nucleotides and predict them; sequence, token, contact: a model from 'rnalm finetune'.", HelpName = "mlm|sequence|token|contact", DefaultValueFactory = _ => "mlm" };
        var input = new Option<string>("--input") { Description = "FASTA or dot-bracket (.dbn) file.", HelpName = "FILE", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = DefaultModel.CheckpointHelp, HelpName = "DIR" };
        var seed = new Option<long>("--seed") { Description = "Seed of the masks (mlm): record i is masked by a generator derived from (seed, i).", HelpName = "N", DefaultValueFactory = _ => 42, CustomParser = TrainingOptionParsers.Seed("--seed") };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (mlm: accuracy, baseline_accuracy, loss, tokens)." };
        var split = new Option<string>("--split") { Description = "Which records: all, or the train / held-out part of the hashed split 'rnalm pretrain' uses.", HelpName = "all|train|held-out", DefaultValueFactory = _ => "all" };
        var heldOut = new Option<double>("--held-out") { Description = "Held-out fraction of that split.", HelpName = "F", DefaultValueFactory = _ => 0.05, CustomParser = TrainingOptionParsers.Number("--held-out", 0, 1) };
        var limit = new Option<int?>("--limit") { Description = "Evaluate only the first N records (after --split), in file order.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--limit", 1) };
        var probability = new Option<double>("--mask-probability") { Description = "Fraction of nucleotides masked (mlm); all of them become <mask>.", HelpName = "P", DefaultValueFactory = _ => 0.15, CustomParser = TrainingOptionParsers.Number("--mask-probability", 0, 1, minimumExclusive: true) };
        var batchSize = new Option<int>("--batch-size") { Description = "Records per forward pass (results do not depend on it).", HelpName = "N", DefaultValueFactory = _ => 32, CustomParser = OptionParsers.AtLeast("--batch-size", 1) };

        var command = new Command("evaluate", "Masked-nucleotide accuracy against the most-frequent-nucleotide baseline, or fine-tuned task metrics.");
        foreach (Option option in new Option[] { task, input, checkpoint, seed, json, split, heldOut, limit, probability, batchSize }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string taskName = parse.GetValue(task)!;
            var dataSplit = TrainingOptionParsers.ParseSplit(parse.GetValue(split)!);
            var records = SequenceFiles.Read(parse.GetRequiredValue(input), dataSplit, parse.GetValue(heldOut));
            if (parse.GetValue(limit) is int n) records = records.Take(n).ToList();
            if (records.Count == 0) throw new CliException($"{parse.GetRequiredValue(input)}: no records to evaluate (split {parse.GetValue(split)}).");
            string checkpointDir = parse.GetValue(checkpoint) ?? DefaultModel.Directory;
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
            var evaluator = new FineTuningTask(model.Model, model.Family, model.Config, model.Tokenizer, examples, examples,
                FineTuning.NumLabels(model.Task, model.Labels.Count), device);
            var result = evaluator.EvaluateOn(examples, 0, parse.GetValue(batchSize));
            if (parse.GetValue(json))
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
        });
        return command;
    }
}
