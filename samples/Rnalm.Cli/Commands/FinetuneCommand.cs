using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Models;
using RnaLm.Training;
using TorchSharp;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm finetune</c>: trains a sequence, token or contact head on a pretrained checkpoint (default: the built-in
/// model), with a frozen (FBTH) or trainable (TBTH) backbone, or a randomly initialised model of the same shape
/// (<c>--from-scratch</c>, the baseline), and reports accuracy, macro-F1 and MCC on the evaluation file.
/// </summary>
internal static class FinetuneCommand
{
    public static Command Create(CliContext context)
    {
        var train = new Option<string>("--train") { Description = "Training records: FASTA whose headers end with the class (sequence task, e.g. nRC), or dot-bracket .dbn (token and contact tasks).", HelpName = "FILE", Required = true };
        var eval = new Option<string?>("--eval") { Description = "Evaluation records in the same format (metrics at --eval-every steps and at the end).", HelpName = "FILE" };
        var output = new Option<string>("--output") { Description = "Run folder: checkpoint-N/ folders and final/ (the fine-tuned model).", HelpName = "DIR", Required = true };
        var task = new Option<string>("--task") { Description = "sequence: one class per record; token: paired/unpaired per nucleotide; contact: base pairs.", HelpName = "sequence|token|contact", DefaultValueFactory = _ => "sequence" };
        var mode = new Option<string>("--mode") { Description = "tbth: the backbone trains too; fbth: the pretrained backbone is frozen, only the head (and a pooler the checkpoint lacks) trains.", HelpName = "tbth|fbth", DefaultValueFactory = _ => "tbth" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = DefaultModel.CheckpointHelp, HelpName = "DIR" };
        var fromScratch = new Option<bool>("--from-scratch") { Description = "Do not load weights: a randomly initialised model of the checkpoint's shape (the baseline)." };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use N training records, chosen by a hash of their names (a class-mixed, fixed subset).", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--train-limit", 1) };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Use N evaluation records, chosen the same way.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--eval-limit", 1) };
        var trainer = new TrainingOptionParsers.TrainerOptionSet(defaultBatchSize: 32, defaultEpochs: 3, defaultLearningRate: 5e-4);
        var dropout = new Option<double?>("--dropout") { Description = "Override hidden_dropout and attention_dropout.", HelpName = "P", CustomParser = r => r.Tokens.Count == 0 ? null : TrainingOptionParsers.Number("--dropout", 0, 0.9)(r) };

        var command = new Command("finetune", "Fine-tune a pretrained model (or a random one of the same shape) on a sequence, token or contact task.");
        foreach (Option option in new Option[] { train, eval, output, task, mode, checkpoint, fromScratch, trainLimit, evalLimit, dropout }) command.Options.Add(option);
        trainer.AddTo(command);
        command.SetAction(parse =>
        {
            var predictionTask = ParseTask(parse.GetValue(task)!);
            var fineTuningMode = parse.GetValue(mode) switch
            {
                "tbth" => FineTuningMode.Tbth,
                "fbth" => FineTuningMode.Fbth,
                var other => throw new UsageException($"--mode must be tbth or fbth (got '{other}')."),
            };
            bool scratch = parse.GetValue(fromScratch);
            if (scratch && fineTuningMode == FineTuningMode.Fbth) throw new UsageException("--from-scratch with --mode fbth would freeze nothing pretrained; use --mode tbth.");
            return Execute(context, parse.GetRequiredValue(train), parse.GetValue(eval), parse.GetRequiredValue(output), predictionTask, fineTuningMode,
                parse.GetValue(checkpoint) ?? DefaultModel.Directory, scratch, parse.GetValue(trainLimit), parse.GetValue(evalLimit), parse.GetValue(dropout),
                trainer.Read(parse), parse.GetValue(trainer.Resume));
        });
        return command;
    }

    internal static PredictionTask ParseTask(string text) => text switch
    {
        "sequence" => PredictionTask.Sequence,
        "token" => PredictionTask.Token,
        "contact" => PredictionTask.Contact,
        _ => throw new UsageException($"--task must be sequence, token or contact (got '{text}')."),
    };

    /// <summary>A fixed subset of <paramref name="count"/> records: the lowest name hashes (independent of file order).</summary>
    internal static List<SequenceRecord> Subset(List<SequenceRecord> records, int? count) =>
        count is int n && n < records.Count
            ? records.OrderBy(r => HeldOutSplit.Hash(r.Name)).ThenBy(r => r.Name, StringComparer.Ordinal).Take(n).ToList()
            : records;

    private static int Execute(CliContext context, string trainPath, string? evalPath, string outputDir, PredictionTask task, FineTuningMode mode,
        string checkpointDir, bool fromScratch, int? trainLimit, int? evalLimit, double? dropout, TrainerOptions options, bool resume)
    {
        OutputPaths.CheckRunFolder(outputDir, (trainPath, "--train"), (evalPath, "--eval"), (checkpointDir, "--checkpoint"));
        var device = TorchSetup.Device;
        var trainRecords = Subset(SequenceFiles.Read(trainPath), trainLimit);
        var evalRecords = evalPath is null ? new List<SequenceRecord>() : Subset(SequenceFiles.Read(evalPath), evalLimit);

        List<LabelledSequence> trainExamples, evalExamples;
        IReadOnlyList<string> labels;
        if (task == PredictionTask.Sequence)
        {
            (trainExamples, labels) = TaskData.ForSequenceClassification(trainRecords);
            (evalExamples, _) = TaskData.ForSequenceClassification(evalRecords, labels);
        }
        else
        {
            trainExamples = TaskData.ForStructure(trainRecords);
            evalExamples = TaskData.ForStructure(evalRecords);
            labels = task == PredictionTask.Token ? new[] { "unpaired", "paired" } : new[] { "paired" };
        }

        var (family, pretrainedConfig) = Checkpoint.ReadConfig(checkpointDir, context.Registry);
        var tokenizer = Checkpoint.ReadTokenizer(checkpointDir, pretrainedConfig);
        var overrides = dropout is double p ? new ConfigOverrides { HiddenDropout = p, AttentionDropout = p } : null;
        var config = FineTuning.TaskConfig(family, pretrainedConfig, task, labels, overrides);
        int numLabels = FineTuning.NumLabels(task, labels.Count);

        int cleaned = Trainer.PrepareOutput(outputDir, resume);
        if (cleaned > 0) context.Error.WriteLine($"rnalm finetune: removed {cleaned} leftover folder(s) of an interrupted run from '{outputDir}'");
        string? resumeFrom = null;
        if (resume)
        {
            resumeFrom = Trainer.FindLatestCheckpoint(outputDir) ?? throw new CliException($"--resume: '{outputDir}' has no checkpoint-* folder to continue from.");
        }

        string weightsFile = Path.Combine(checkpointDir, Checkpoint.WeightsFile);
        if (fromScratch && File.Exists(weightsFile))
        {
            // The shape comes from the checkpoint's config.json: it must still describe that folder's weights.
            FineTuning.CheckPretrainedWeights(family, config, task, numLabels, weightsFile);
        }
        TrainingMemory.Check("finetune", config, trains: mode == FineTuningMode.Tbth);
        var (model, loaded) = FineTuning.CreateModel(family, config, task, numLabels, fromScratch ? null : weightsFile, options.Seed);
        try
        {
            long trainable = FineTuning.ApplyMode(model, mode, loaded);
            model.Module.to(device);
            long total = ModelSetup.CountParameters(model.Module);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm finetune: {task.ToString().ToLowerInvariant()} task, {mode.ToString().ToUpperInvariant()}, {(fromScratch ? "random initialisation" : $"backbone from {checkpointDir} ({loaded.Count} tensors)")}, {trainable:N0} of {total:N0} parameters trainable, {numLabels} outputs; {trainExamples.Count} training and {evalExamples.Count} evaluation records"));
            var fineTuning = new FineTuningTask(model, family, config, tokenizer, trainExamples, evalExamples, numLabels, device);
            var info = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["train"] = Path.GetFullPath(trainPath),
                ["mode"] = mode.ToString().ToLowerInvariant(),
                ["initialisation"] = fromScratch ? "random" : Path.GetFullPath(checkpointDir),
            };
            if (evalPath is not null) info["eval"] = Path.GetFullPath(evalPath);
            var runner = new Trainer(fineTuning, options with { RunInfo = info }, outputDir, context.Error, interactive: ReferenceEquals(context.Error, Console.Error) && ProgressReporter.StderrIsTerminal);
            var result = runner.Run(resumeFrom);
            JsonOutput.Write(context.Out, indented: true, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("task", task.ToString().ToLowerInvariant());
                writer.WriteString("mode", mode.ToString().ToLowerInvariant());
                writer.WriteString("initialisation", fromScratch ? "random" : "pretrained");
                writer.WriteNumber("steps", result.Steps);
                writer.WriteBoolean("completed", result.Completed);
                JsonOutput.WriteRounded(writer, "train_loss", result.LastTrainLoss);
                if (result.FinalEvaluation is { } final)
                {
                    writer.WriteStartObject("eval");
                    foreach (var (name, value) in final.Metrics) JsonOutput.WriteRounded(writer, name, value);
                    writer.WriteEndObject();
                }
                JsonOutput.WriteRounded(writer, "seconds", result.Elapsed.TotalSeconds, 1);
                if (result.FinalModel is not null) writer.WriteString("final_model", result.FinalModel);
                if (result.LastCheckpoint is not null) writer.WriteString("checkpoint", result.LastCheckpoint);
                writer.WriteEndObject();
            });
            return ExitCodes.Success;
        }
        finally
        {
            model.Module.Dispose();
        }
    }
}
