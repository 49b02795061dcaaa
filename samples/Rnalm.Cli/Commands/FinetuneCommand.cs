using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Cli.Plots;
using RnaLm.Models;
using RnaLm.Training;
using TorchSharp;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm finetune</c>: trains a sequence, token, contact or pair head on a pretrained checkpoint (default: the
/// built-in model), with a frozen (FBTH) or trainable (TBTH) backbone, type-guided (STACK), or a randomly initialised
/// model of the same shape (<c>--from-scratch</c>, the baseline), and reports the task's metrics on the evaluation records.
/// </summary>
internal static class FinetuneCommand
{
    public static Command Create(CliContext context)
    {
        var train = new Option<string>("--train") { Description = "Training records: FASTA whose headers end with the class (sequence task, e.g. nRC), dot-bracket .dbn (token and contact tasks), or a pair CSV a_name,a_seq,b_name,b_seq,label (pair task, e.g. DeepMirTar).", HelpName = "FILE", Required = true };
        var eval = new Option<string?>("--eval") { Description = "Evaluation records in the same format (metrics at --eval-every steps and at the end).", HelpName = "FILE" };
        var heldOut = new Option<double?>("--held-out") { Description = "Instead of --eval: hold out this fraction of --train's records, chosen by a hash of their names (pairs: of both sequences), for evaluation. 'rnalm evaluate --split held-out --held-out F' evaluates the same records.", HelpName = "F", CustomParser = r => r.Tokens.Count == 0 ? null : TrainingOptionParsers.Number("--held-out", 0, 0.9, minimumExclusive: true)(r) };
        var output = new Option<string>("--output") { Description = "Run folder: checkpoint-N/ folders and final/ (the fine-tuned model).", HelpName = "DIR", Required = true };
        var task = new Option<string>("--task") { Description = "sequence: one class per record; token: paired/unpaired per nucleotide; contact: base pairs; pair: whether two sequences interact.", HelpName = "sequence|token|contact|pair", DefaultValueFactory = _ => "sequence" };
        var mode = new Option<string>("--mode") { Description = "tbth: the backbone trains too; fbth: the pretrained backbone is frozen, only the head (and a pooler the checkpoint lacks) trains; stack: type-guided, the checkpoint's MLM head predicts each record's top-K RNA types and the model runs once per type, its outputs weighted by the type probabilities (the backbone trains as --stack-base says).", HelpName = "tbth|fbth|stack", DefaultValueFactory = _ => "tbth" };
        var stackBase = new Option<string>("--stack-base") { Description = "With --mode stack: whether the downstream backbone trains (tbth) or is frozen (fbth).", HelpName = "tbth|fbth", DefaultValueFactory = _ => "tbth" };
        var topK = new Option<int>("--top-k") { Description = "With --mode stack: the number K of predicted RNA types each record runs with.", HelpName = "K", DefaultValueFactory = _ => 2, CustomParser = OptionParsers.AtLeast("--top-k", 1) };
        var checkpoint = new Option<string?>("--checkpoint") { Description = DefaultModel.CheckpointHelp, HelpName = "DIR" };
        var fromScratch = new Option<bool>("--from-scratch") { Description = "Do not load weights: a randomly initialised model of the checkpoint's shape (the baseline)." };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use N training records, chosen by a hash of their names (a class-mixed, fixed subset).", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--train-limit", 1) };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Use N evaluation records, chosen the same way.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--eval-limit", 1) };
        var selectBest = new Option<string?>("--select-best") { Description = "Model selection on the evaluation records: final/ holds the weights of the evaluation with the highest value of this metric (e.g. structure_f1, f1, accuracy), also kept in best/.", HelpName = "METRIC" };
        var trainer = new TrainingOptionParsers.TrainerOptionSet(defaultBatchSize: 32, defaultEpochs: 3, defaultLearningRate: 5e-4);
        var chunking = new TrainingOptionParsers.ChunkOptionSet();
        var positiveWeight = new Option<double>("--positive-weight") { Description = "Token and contact tasks: the loss weight of a paired target (unpaired: 1). Base pairs are about 0.3% of all nucleotide pairs, so an unweighted contact loss first learns to predict none; structure predictors weigh them by tens to hundreds.", HelpName = "W", DefaultValueFactory = _ => 1, CustomParser = TrainingOptionParsers.Number("--positive-weight", 0, 10000, minimumExclusive: true) };
        var dropout = new Option<double?>("--dropout") { Description = "Override hidden_dropout and attention_dropout.", HelpName = "P", CustomParser = r => r.Tokens.Count == 0 ? null : TrainingOptionParsers.Number("--dropout", 0, 0.9)(r) };

        var command = new Command("finetune", "Fine-tune a pretrained model (or a random one of the same shape) on a sequence, token, contact or pair task (FBTH, TBTH or STACK).");
        foreach (Option option in new Option[] { train, eval, heldOut, output, task, mode, stackBase, topK, checkpoint, fromScratch, trainLimit, evalLimit, selectBest, positiveWeight, dropout }) command.Options.Add(option);
        trainer.AddTo(command);
        chunking.AddTo(command);
        command.SetAction(parse =>
        {
            string taskName = parse.GetValue(task)!;
            bool pair = taskName == "pair";
            var predictionTask = pair ? PredictionTask.Sequence : ParseTask(taskName);
            string modeName = parse.GetValue(mode)!;
            bool stack = modeName == "stack";
            var fineTuningMode = (stack ? parse.GetValue(stackBase) : modeName) switch
            {
                "tbth" => FineTuningMode.Tbth,
                "fbth" => FineTuningMode.Fbth,
                var other => throw new UsageException(stack ? $"--stack-base must be tbth or fbth (got '{other}')." : $"--mode must be tbth, fbth or stack (got '{other}')."),
            };
            bool scratch = parse.GetValue(fromScratch);
            if (scratch && fineTuningMode == FineTuningMode.Fbth) throw new UsageException("--from-scratch with --mode fbth would freeze nothing pretrained; use --mode tbth.");
            if (scratch && stack) throw new UsageException("--mode stack predicts RNA types with the pretrained checkpoint's MLM head; it cannot start from scratch.");
            if (pair && stack) throw new UsageException("--mode stack is for sequence, token and contact tasks; a pair task has two sequences and no single RNA type.");
            if (!stack && parse.GetResult(topK) is { Implicit: false }) throw new UsageException("--top-k needs --mode stack.");
            if (!stack && parse.GetResult(stackBase) is { Implicit: false }) throw new UsageException("--stack-base needs --mode stack.");
            if (parse.GetResult(positiveWeight) is { Implicit: false } && predictionTask == PredictionTask.Sequence) throw new UsageException("--positive-weight is for token and contact tasks.");
            if (parse.GetValue(heldOut) is not null && parse.GetValue(eval) is not null) throw new UsageException("Give --eval or --held-out, not both.");
            var settings = new Settings(parse.GetRequiredValue(train), parse.GetValue(eval), parse.GetValue(heldOut), parse.GetRequiredValue(output), predictionTask, pair,
                fineTuningMode, stack ? parse.GetValue(topK) : null, parse.GetValue(checkpoint) ?? DefaultModel.Directory, scratch, parse.GetValue(trainLimit),
                parse.GetValue(evalLimit), parse.GetValue(dropout), chunking.Read(parse), parse.GetValue(selectBest), parse.GetValue(positiveWeight));
            var options = trainer.Read(parse) with { SelectBy = settings.SelectBest };
            if (settings.SelectBest is not null && settings.EvalPath is null && settings.HeldOut is null) throw new UsageException("--select-best needs evaluation records (--eval or --held-out).");
            return pair ? ExecutePair(context, settings, options, parse.GetValue(trainer.Resume)) : Execute(context, settings, options, parse.GetValue(trainer.Resume));
        });
        return command;
    }

    private sealed record Settings(string TrainPath, string? EvalPath, double? HeldOut, string OutputDir, PredictionTask Task, bool Pair, FineTuningMode Mode,
        int? StackTopK, string CheckpointDir, bool FromScratch, int? TrainLimit, int? EvalLimit, double? Dropout, ChunkOptions Chunking, string? SelectBest, double PositiveWeight)
    {
        public string TaskName => Pair ? PairPredictor.TaskName : Task.ToString().ToLowerInvariant();

        public string ModeName => StackTopK is int k ? $"stack (top {k}, {Mode.ToString().ToLowerInvariant()} backbone)" : Mode.ToString().ToLowerInvariant();
    }

    internal static PredictionTask ParseTask(string text) => text switch
    {
        "sequence" => PredictionTask.Sequence,
        "token" => PredictionTask.Token,
        "contact" => PredictionTask.Contact,
        _ => throw new UsageException($"--task must be sequence, token, contact or pair (got '{text}')."),
    };

    /// <summary>A fixed subset of <paramref name="count"/> records: the lowest name hashes (independent of file order).</summary>
    internal static List<SequenceRecord> Subset(List<SequenceRecord> records, int? count) =>
        count is int n && n < records.Count
            ? records.OrderBy(r => HeldOutSplit.Hash(r.Name)).ThenBy(r => r.Name, StringComparer.Ordinal).Take(n).ToList()
            : records;

    /// <summary>A fixed subset of pairs: the lowest hashes of <see cref="SequencePair.SplitKey"/>, in file order.</summary>
    internal static List<SequencePair> Subset(List<SequencePair> pairs, int? count)
    {
        if (count is not int n || n >= pairs.Count) return pairs;
        var keep = pairs.Select((p, i) => (p, i)).OrderBy(x => HeldOutSplit.Hash(x.p.SplitKey)).ThenBy(x => x.i).Take(n).Select(x => x.i).ToHashSet();
        return pairs.Where((_, i) => keep.Contains(i)).ToList();
    }

    private static (List<SequenceRecord> Train, List<SequenceRecord> Eval) ReadRecords(Settings s)
    {
        var records = SequenceFiles.Read(s.TrainPath);
        List<SequenceRecord> train = records, eval = new();
        if (s.HeldOut is double fraction)
        {
            train = records.Where(r => !HeldOutSplit.IsHeldOut(r.Name, fraction)).ToList();
            eval = records.Where(r => HeldOutSplit.IsHeldOut(r.Name, fraction)).ToList();
        }
        else if (s.EvalPath is not null)
        {
            eval = SequenceFiles.Read(s.EvalPath);
        }
        if (train.Count == 0) throw new CliException($"{s.TrainPath}: no training records are left after holding out {s.HeldOut:P0}.");
        return (Subset(train, s.TrainLimit), Subset(eval, s.EvalLimit));
    }

    private static Dictionary<string, string> RunInfo(Settings s)
    {
        var info = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["train"] = Path.GetFullPath(s.TrainPath),
            ["mode"] = s.ModeName,
            ["initialisation"] = s.FromScratch ? "random" : Path.GetFullPath(s.CheckpointDir),
            ["long_records"] = s.Chunking.Policy.ToString().ToLowerInvariant(),
        };
        if (s.EvalPath is not null) info["eval"] = Path.GetFullPath(s.EvalPath);
        if (s.HeldOut is double f) info["held_out_fraction"] = f.ToString("R", CultureInfo.InvariantCulture);
        return info;
    }

    private static int Execute(CliContext context, Settings s, TrainerOptions options, bool resume)
    {
        OutputPaths.CheckRunFolder(s.OutputDir, (s.TrainPath, "--train"), (s.EvalPath, "--eval"), (s.CheckpointDir, "--checkpoint"));
        var device = TorchSetup.Device;
        var task = s.Task;
        var (trainRecords, evalRecords) = ReadRecords(s);

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

        var (family, pretrainedConfig) = Checkpoint.ReadConfig(s.CheckpointDir, context.Registry);
        var tokenizer = Checkpoint.ReadTokenizer(s.CheckpointDir, pretrainedConfig);
        if (s.StackTopK is int k)
        {
            var types = tokenizer.Options.RnaTypes
                ?? throw new CliException($"--mode stack: '{s.CheckpointDir}' has no RNA type tokens (tokenizer_config.json 'rna_types'); pretrain with --types to make a type-aware model.");
            if (k > types.Count) throw new UsageException($"--top-k {k} is larger than the {types.Count} RNA types of '{s.CheckpointDir}' ({string.Join(", ", types.Types)}).");
        }
        var overrides = s.Dropout is double p ? new ConfigOverrides { HiddenDropout = p, AttentionDropout = p } : null;
        var config = FineTuning.TaskConfig(family, pretrainedConfig, task, labels, overrides, s.StackTopK);
        int numLabels = FineTuning.NumLabels(task, labels.Count);

        int cleaned = Trainer.PrepareOutput(s.OutputDir, resume);
        if (cleaned > 0) context.Error.WriteLine($"rnalm finetune: removed {cleaned} leftover folder(s) of an interrupted run from '{s.OutputDir}'");
        string? resumeFrom = null;
        if (resume)
        {
            resumeFrom = Trainer.FindLatestCheckpoint(s.OutputDir) ?? throw new CliException($"--resume: '{s.OutputDir}' has no checkpoint-* folder to continue from.");
        }

        string weightsFile = Path.Combine(s.CheckpointDir, Checkpoint.WeightsFile);
        if (s.FromScratch && File.Exists(weightsFile))
        {
            // The shape comes from the checkpoint's config.json: it must still describe that folder's weights.
            FineTuning.CheckPretrainedWeights(family, config, task, numLabels, weightsFile);
        }
        TrainingMemory.Check("finetune", config, trains: s.Mode == FineTuningMode.Tbth);
        var (model, loaded) = FineTuning.CreateModel(family, config, task, numLabels, s.FromScratch ? null : weightsFile, options.Seed);
        LoadedCheckpoint? predictor = null;
        try
        {
            long trainable = FineTuning.ApplyMode(model, s.Mode, loaded);
            model.Module.to(device);
            StackSettings? stack = null;
            if (s.StackTopK is int topK)
            {
                predictor = Checkpoint.Load(s.CheckpointDir, context.Registry, device);
                foreach (var parameter in predictor.Model.Module.parameters()) parameter.requires_grad = false;
                stack = new StackSettings(predictor.Model, predictor.Config, topK);
            }
            long total = ModelSetup.CountParameters(model.Module);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm finetune: {s.TaskName} task, {s.ModeName.ToUpperInvariant()}, {(s.FromScratch ? "random initialisation" : $"backbone from {s.CheckpointDir} ({loaded.Count} tensors)")}, {trainable:N0} of {total:N0} parameters trainable, {numLabels} outputs; {trainExamples.Count} training and {evalExamples.Count} evaluation records; long records: {s.Chunking.Policy.ToString().ToLowerInvariant()}"));
            var fineTuning = new FineTuningTask(model, family, config, tokenizer, trainExamples, evalExamples, numLabels, device, s.Chunking, stack, s.PositiveWeight);
            var runner = new Trainer(fineTuning, options with { RunInfo = RunInfo(s) }, s.OutputDir, context.Error, interactive: context.ErrorIsTerminal);
            return Report(context, s, runner.Run(resumeFrom));
        }
        finally
        {
            model.Module.Dispose();
            predictor?.Dispose();
        }
    }

    private static int ExecutePair(CliContext context, Settings s, TrainerOptions options, bool resume)
    {
        OutputPaths.CheckRunFolder(s.OutputDir, (s.TrainPath, "--train"), (s.EvalPath, "--eval"), (s.CheckpointDir, "--checkpoint"));
        var device = TorchSetup.Device;
        var pairs = PairFiles.Read(s.TrainPath, requireLabels: true);
        List<SequencePair> train = pairs, eval = new();
        if (s.HeldOut is double fraction)
        {
            train = PairFiles.Split(pairs, DataSplit.Train, fraction);
            eval = PairFiles.Split(pairs, DataSplit.HeldOut, fraction);
        }
        else if (s.EvalPath is not null)
        {
            eval = PairFiles.Read(s.EvalPath, requireLabels: true);
        }
        if (train.Count == 0) throw new CliException($"{s.TrainPath}: no training pairs are left after holding out {s.HeldOut:P0}.");
        train = Subset(train, s.TrainLimit);
        eval = Subset(eval, s.EvalLimit);

        var (family, pretrainedConfig) = Checkpoint.ReadConfig(s.CheckpointDir, context.Registry);
        var tokenizer = Checkpoint.ReadTokenizer(s.CheckpointDir, pretrainedConfig);
        var overrides = s.Dropout is double p ? new ConfigOverrides { HiddenDropout = p, AttentionDropout = p } : null;
        var config = PairPredictor.TaskConfig(family, pretrainedConfig, overrides);

        int cleaned = Trainer.PrepareOutput(s.OutputDir, resume);
        if (cleaned > 0) context.Error.WriteLine($"rnalm finetune: removed {cleaned} leftover folder(s) of an interrupted run from '{s.OutputDir}'");
        string? resumeFrom = null;
        if (resume)
        {
            resumeFrom = Trainer.FindLatestCheckpoint(s.OutputDir) ?? throw new CliException($"--resume: '{s.OutputDir}' has no checkpoint-* folder to continue from.");
        }
        string weightsFile = Path.Combine(s.CheckpointDir, Checkpoint.WeightsFile);
        TrainingMemory.Check("finetune", config, trains: s.Mode == FineTuningMode.Tbth);
        var (model, loaded) = PairPredictor.Create(family, config, tokenizer, s.FromScratch ? null : weightsFile, options.Seed);
        try
        {
            long trainable = PairPredictor.ApplyMode(model, s.Mode, loaded);
            model.to(device);
            long total = ModelSetup.CountParameters(model);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm finetune: pair task, {s.ModeName.ToUpperInvariant()}, {(s.FromScratch ? "random initialisation" : $"backbone from {s.CheckpointDir} ({loaded.Count} tensors)")}, {trainable:N0} of {total:N0} parameters trainable; {train.Count} training ({train.Count(x => x.Label == 1)} positive) and {eval.Count} evaluation pairs"));
            var pairTask = new PairTrainingTask(model, family, config, tokenizer, train, eval, device);
            var runner = new Trainer(pairTask, options with { RunInfo = RunInfo(s) }, s.OutputDir, context.Error, interactive: context.ErrorIsTerminal);
            return Report(context, s, runner.Run(resumeFrom));
        }
        finally
        {
            model.Dispose();
        }
    }

    private static int Report(CliContext context, Settings s, TrainingResult result)
    {
        TrainingCurvesFile.Write(context, "finetune", s.OutputDir, result.FinalModel ?? result.LastCheckpoint);
        JsonOutput.Write(context.Out, indented: true, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("task", s.TaskName);
            writer.WriteString("mode", s.StackTopK is null ? s.Mode.ToString().ToLowerInvariant() : "stack");
            if (s.StackTopK is int k)
            {
                writer.WriteNumber("top_k", k);
                writer.WriteString("stack_base", s.Mode.ToString().ToLowerInvariant());
            }
            writer.WriteString("initialisation", s.FromScratch ? "random" : "pretrained");
            writer.WriteNumber("steps", result.Steps);
            writer.WriteBoolean("completed", result.Completed);
            JsonOutput.WriteRounded(writer, "train_loss", result.LastTrainLoss);
            if (result.FinalEvaluation is { } final)
            {
                writer.WriteStartObject("eval");
                foreach (var (name, value) in final.Metrics) JsonOutput.WriteRounded(writer, name, value);
                writer.WriteEndObject();
            }
            if (result.SelectedStep is long selected) writer.WriteNumber("selected_step", selected);
            JsonOutput.WriteRounded(writer, "seconds", result.Elapsed.TotalSeconds, 1);
            if (result.FinalModel is not null) writer.WriteString("final_model", result.FinalModel);
            if (result.LastCheckpoint is not null) writer.WriteString("checkpoint", result.LastCheckpoint);
            writer.WriteEndObject();
        });
        return ExitCodes.Success;
    }
}
