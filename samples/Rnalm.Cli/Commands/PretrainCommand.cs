using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Models;
using RnaLm.Training;
using TorchSharp;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm pretrain</c>: masked-language-model pretraining of a registered model (default rnalm-mini) from scratch on
/// FASTA or dot-bracket sequences, with a deterministic held-out split, resumable checkpoints and a final model folder
/// that <c>--checkpoint</c> options accept.
/// </summary>
internal static class PretrainCommand
{
    public static Command Create(CliContext context)
    {
        var train = new Option<string>("--train") { Description = "Training sequences: FASTA, or dot-bracket (.dbn: header, sequence, structure).", HelpName = "FILE", Required = true };
        var output = new Option<string>("--output") { Description = "Run folder: checkpoint-N/ folders and final/ (the trained model). Must be new, empty, or an earlier run (with --resume).", HelpName = "DIR", Required = true };
        var model = new Option<string>("--model") { Description = "Registered model to train from scratch (see 'rnalm models').", HelpName = "NAME", DefaultValueFactory = _ => DefaultModel.Name };
        var heldOut = new Option<double>("--held-out") { Description = "Fraction of records held out for evaluation, chosen by a hash of the record name.", HelpName = "F", DefaultValueFactory = _ => 0.05, CustomParser = TrainingOptionParsers.Number("--held-out", 0, 0.5) };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate on at most the first N held-out records (default: all).", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--eval-limit", 1) };
        var masking = new Option<string>("--masking") { Description = "bert: 15% of nucleotides, 80/10/10; ernie: RNAErnie base/subsequence/motif levels, 1:1:1 per batch (needs --motifs).", HelpName = "bert|ernie", DefaultValueFactory = _ => "bert" };
        var motifs = new Option<string?>("--motifs") { Description = "Motif file or folder of *.txt files (one motif a line; T read as U) for --masking ernie.", HelpName = "PATH" };
        var initFrom = new Option<string?>("--init-from") { Description = "Continue pretraining from a model folder (its config, tokenizer and weights) instead of a new --model; the optimizer and schedule start afresh.", HelpName = "DIR" };
        var maskProbability = new Option<double>("--mask-probability") { Description = "Fraction of nucleotides selected for prediction.", HelpName = "P", DefaultValueFactory = _ => 0.15, CustomParser = TrainingOptionParsers.Number("--mask-probability", 0, 1, minimumExclusive: true) };
        var trainer = new TrainingOptionParsers.TrainerOptionSet(defaultBatchSize: 32, defaultEpochs: 1, defaultLearningRate: 1e-3);
        var sizes = new TrainingOptionParsers.SizeOptionSet();

        var command = new Command("pretrain", "Pretrain a model from scratch with masked-language modelling (BERT or RNAErnie masking).");
        foreach (Option option in new Option[] { train, output, model, initFrom, heldOut, evalLimit, masking, motifs, maskProbability }) command.Options.Add(option);
        trainer.AddTo(command);
        sizes.AddTo(command);
        command.SetAction(parse =>
        {
            var options = trainer.Read(parse);
            var scheme = parse.GetValue(masking) switch
            {
                "bert" => MaskingScheme.Bert,
                "ernie" => MaskingScheme.Ernie,
                var other => throw new UsageException($"--masking must be bert or ernie (got '{other}')."),
            };
            string? motifPath = parse.GetValue(motifs);
            if (scheme == MaskingScheme.Ernie && motifPath is null) throw new UsageException("--masking ernie needs --motifs (e.g. ../shared/data/motifs).");
            IModelVariant variant;
            try
            {
                variant = context.Registry.GetVariant(parse.GetValue(model)!);
            }
            catch (System.Collections.Generic.KeyNotFoundException e)
            {
                throw new UsageException(e.Message, e);
            }
            var overrides = sizes.Read(parse);
            string? init = parse.GetValue(initFrom);
            if (init is not null && (overrides with { HiddenDropout = null, AttentionDropout = null }).IsEmpty is false)
            {
                throw new UsageException("--init-from keeps the model's shape; only --dropout may be combined with it.");
            }
            return Execute(context, parse.GetRequiredValue(train), parse.GetRequiredValue(output), variant, init, overrides, options,
                parse.GetValue(heldOut), parse.GetValue(evalLimit), scheme, motifPath, parse.GetValue(maskProbability), parse.GetValue(trainer.Resume));
        });
        return command;
    }

    private static int Execute(CliContext context, string trainPath, string outputDir, IModelVariant variant, string? initFrom, ConfigOverrides overrides,
        TrainerOptions options, double heldOutFraction, int? evalLimit, MaskingScheme scheme, string? motifPath, double maskProbability, bool resume)
    {
        OutputPaths.CheckRunFolder(outputDir, (trainPath, "--train"), (initFrom, "--init-from"), (motifPath, "--motifs"));
        var device = TorchSetup.Device;
        var records = SequenceFiles.Read(trainPath);
        var trainRecords = records.Where(r => !HeldOutSplit.IsHeldOut(r.Name, heldOutFraction)).ToList();
        var heldOutRecords = records.Where(r => HeldOutSplit.IsHeldOut(r.Name, heldOutFraction)).ToList();
        if (trainRecords.Count == 0) throw new CliException($"{trainPath}: no training records are left after holding out {heldOutFraction:P0}.");
        if (evalLimit is int limit) heldOutRecords = heldOutRecords.Take(limit).ToList();

        var family = variant.Family;
        IModelConfig baseConfig = variant.Config;
        RnaLm.Tokenization.RnaTokenizer tokenizer = variant.CreateTokenizer();
        if (initFrom is not null)
        {
            (family, baseConfig) = RnaLm.Checkpoints.Checkpoint.ReadConfig(initFrom, context.Registry);
            tokenizer = RnaLm.Checkpoints.Checkpoint.ReadTokenizer(initFrom, baseConfig);
        }
        IModelConfig config;
        try
        {
            config = ModelSetup.WithOverrides(family, baseConfig, overrides);
        }
        catch (ConfigException e)
        {
            throw new UsageException(e.Message, e);
        }
        if (tokenizer.Options.ModelMaxLength is int max && max > config.MaxPositionEmbeddings && overrides.MaxPositionEmbeddings is not null)
        {
            tokenizer = tokenizer.With(tokenizer.Options with { ModelMaxLength = config.MaxPositionEmbeddings });
        }
        var motifSet = motifPath is null ? null : MotifSet.Load(motifPath);
        var masker = new MlmMasker(tokenizer, new MaskingOptions { Probability = maskProbability }, motifSet);

        int cleaned = Trainer.PrepareOutput(outputDir, resume);
        if (cleaned > 0) context.Error.WriteLine($"rnalm pretrain: removed {cleaned} leftover folder(s) of an interrupted run from '{outputDir}'");
        string? resumeFrom = null;
        if (resume)
        {
            resumeFrom = Trainer.FindLatestCheckpoint(outputDir)
                ?? throw new CliException($"--resume: '{outputDir}' has no checkpoint-* folder to continue from.");
        }

        TrainingMemory.Check("pretrain", config, trains: true);
        if (initFrom is not null)
        {
            RnaLm.Checkpoints.Checkpoint.CheckWeights(config, Path.Combine(initFrom, RnaLm.Checkpoints.Checkpoint.ConfigFile), family.Naming,
                new[] { Path.Combine(initFrom, RnaLm.Checkpoints.Checkpoint.WeightsFile) }, () => family.CreatePreTrainingModel(config).Module);
        }
        ModelSetup.Seed(options.Seed);
        var model = family.CreatePreTrainingModel(config);
        try
        {
            ModelSetup.InitializeWeights(model.Module);
            ModelSetup.ZeroPaddingRow(model.Module, config.PadTokenId);
            if (initFrom is not null)
            {
                RnaLm.Checkpoints.Checkpoint.LoadWeights(model.Module, family.Naming, new[] { Path.Combine(initFrom, RnaLm.Checkpoints.Checkpoint.WeightsFile) });
            }
            model.Module.to(device);
            var task = new MlmTrainingTask(model, family, config, tokenizer,
                trainRecords.Select(r => r.Sequence).ToList(), heldOutRecords.Select(r => r.Sequence).ToList(), masker, scheme, options.Seed, device);
            var info = new System.Collections.Generic.Dictionary<string, string>(StringComparer.Ordinal) { ["train"] = Path.GetFullPath(trainPath), ["held_out_fraction"] = heldOutFraction.ToString("R", CultureInfo.InvariantCulture) };
            if (initFrom is not null) info["init_from"] = Path.GetFullPath(initFrom);
            else info["model"] = variant.Name;
            var runner = new Trainer(task, options with { RunInfo = info }, outputDir, context.Error, interactive: ReferenceEquals(context.Error, Console.Error) && ProgressReporter.StderrIsTerminal);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm pretrain: {(initFrom is null ? variant.Name : $"{family.Name} from {initFrom}")} ({ModelSetup.CountParameters(model.Module):N0} parameters), {trainRecords.Count} training and {heldOutRecords.Count} held-out records of {trainPath}, {scheme.ToString().ToLowerInvariant()} masking, device {device.type}"));
            var result = runner.Run(resumeFrom);
            JsonOutput.Write(context.Out, indented: true, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("model", initFrom is null ? variant.Name : family.Name);
                if (initFrom is not null) writer.WriteString("init_from", initFrom);
                writer.WriteNumber("steps", result.Steps);
                writer.WriteNumber("total_steps", result.TotalSteps);
                writer.WriteBoolean("completed", result.Completed);
                JsonOutput.WriteRounded(writer, "train_loss", result.LastTrainLoss);
                if (result.FinalEvaluation is { } final)
                {
                    writer.WriteStartObject("held_out");
                    foreach (var (name, value) in final.Metrics) JsonOutput.WriteRounded(writer, name, value);
                    writer.WriteEndObject();
                }
                JsonOutput.WriteRounded(writer, "seconds", result.Elapsed.TotalSeconds, 1);
                JsonOutput.WriteRounded(writer, "tokens_per_second", result.TokensPerSecond, 0);
                if (result.LastCheckpoint is not null) writer.WriteString("checkpoint", result.LastCheckpoint);
                if (result.FinalModel is not null) writer.WriteString("final_model", result.FinalModel);
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
