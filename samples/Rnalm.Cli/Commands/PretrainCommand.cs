using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Cli.Plots;
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
        var types = new Option<string>("--types") { Description = "Coarse RNA types appended after each sequence (<ind> <type>): none; bprna, from the source database in bpRNA-1m record names (CRW rRNA, SPR tRNA, tmRNA, SRP, RNP RNaseP, RFAM other; PDB none); header, the last word of each FASTA header. Needs a model with RNA type tokens.", HelpName = "none|bprna|header", DefaultValueFactory = _ => "none" };
        var typeMask = new Option<double>("--type-mask-probability") { Description = "Per typed record, the probability that the type token is masked and predicted.", HelpName = "P", DefaultValueFactory = _ => 0.5, CustomParser = TrainingOptionParsers.Number("--type-mask-probability", 0, 1) };
        var vocabularyFrom = new Option<string?>("--vocabulary-from") { Description = "With --init-from: use the tokenizer of registered model NAME, whose vocabulary extends the folder's (e.g. adds RNA type tokens); the new tokens get new embedding rows.", HelpName = "NAME" };
        var trainer = new TrainingOptionParsers.TrainerOptionSet(defaultBatchSize: 32, defaultEpochs: 1, defaultLearningRate: 1e-3);
        var sizes = new TrainingOptionParsers.SizeOptionSet();

        var command = new Command("pretrain", "Pretrain a model from scratch with masked-language modelling (BERT or RNAErnie masking).");
        foreach (Option option in new Option[] { train, output, model, initFrom, vocabularyFrom, heldOut, evalLimit, masking, motifs, maskProbability, types, typeMask }) command.Options.Add(option);
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
            var typeSource = parse.GetValue(types) switch
            {
                "none" => RnaTypeSource.None,
                "bprna" => RnaTypeSource.Bprna,
                "header" => RnaTypeSource.Header,
                var other => throw new UsageException($"--types must be none, bprna or header (got '{other}')."),
            };
            IModelVariant? extendedVocabulary = null;
            if (parse.GetValue(vocabularyFrom) is string vocabularyName)
            {
                if (init is null) throw new UsageException("--vocabulary-from extends the vocabulary of the --init-from model; without --init-from, choose the model with --model.");
                try
                {
                    extendedVocabulary = context.Registry.GetVariant(vocabularyName);
                }
                catch (System.Collections.Generic.KeyNotFoundException e)
                {
                    throw new UsageException(e.Message, e);
                }
            }
            return Execute(context, parse.GetRequiredValue(train), parse.GetRequiredValue(output), variant, init, extendedVocabulary, overrides, options,
                parse.GetValue(heldOut), parse.GetValue(evalLimit), scheme, motifPath, parse.GetValue(maskProbability), typeSource, parse.GetValue(typeMask),
                parse.GetValue(trainer.Resume));
        });
        return command;
    }

    private static int Execute(CliContext context, string trainPath, string outputDir, IModelVariant variant, string? initFrom, IModelVariant? extendedVocabulary,
        ConfigOverrides overrides, TrainerOptions options, double heldOutFraction, int? evalLimit, MaskingScheme scheme, string? motifPath, double maskProbability,
        RnaTypeSource typeSource, double typeMaskProbability, bool resume)
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
        // --vocabulary-from: the folder's weights in a model whose vocabulary adds tokens after the folder's.
        IModelConfig? originalConfig = null;
        if (extendedVocabulary is not null)
        {
            if (extendedVocabulary.Family.Name != family.Name)
            {
                throw new UsageException($"--vocabulary-from {extendedVocabulary.Name} is a {extendedVocabulary.Family.Name} model, but --init-from '{initFrom}' holds a {family.Name} model.");
            }
            var extended = extendedVocabulary.CreateTokenizer();
            try
            {
                VocabularyExtension.CheckExtends(tokenizer.Vocabulary, extended.Vocabulary, $"'{initFrom}'", extendedVocabulary.Name);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--vocabulary-from: {e.Message}", e);
            }
            originalConfig = config;
            tokenizer = new RnaLm.Tokenization.RnaTokenizer(extended.Vocabulary, tokenizer.Options with { RnaTypes = extended.Options.RnaTypes });
            config = VocabularyExtension.WithVocabularySize(family, config, extended.Vocabulary.Count);
        }
        int?[]? trainTypes = null, heldOutTypes = null;
        if (typeSource != RnaTypeSource.None)
        {
            var rnaTypes = tokenizer.Options.RnaTypes
                ?? throw new UsageException($"--types {typeSource.ToString().ToLowerInvariant()} needs a model with RNA type tokens (spec field tokenizer.rna_types); this model's tokenizer has none.");
            trainTypes = RnaTypeLabels.Of(trainRecords, typeSource, rnaTypes);
            heldOutTypes = RnaTypeLabels.Of(heldOutRecords, typeSource, rnaTypes);
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
            var stored = originalConfig ?? config;
            RnaLm.Checkpoints.Checkpoint.CheckWeights(stored, Path.Combine(initFrom, RnaLm.Checkpoints.Checkpoint.ConfigFile), family.Naming,
                new[] { Path.Combine(initFrom, RnaLm.Checkpoints.Checkpoint.WeightsFile) }, () => family.CreatePreTrainingModel(stored).Module);
        }
        ModelSetup.Seed(options.Seed);
        var model = family.CreatePreTrainingModel(config);
        try
        {
            ModelSetup.InitializeWeights(model.Module);
            ModelSetup.ZeroPaddingRow(model.Module, config.PadTokenId);
            if (initFrom is not null && originalConfig is null)
            {
                RnaLm.Checkpoints.Checkpoint.LoadWeights(model.Module, family.Naming, new[] { Path.Combine(initFrom, RnaLm.Checkpoints.Checkpoint.WeightsFile) });
            }
            else if (initFrom is not null)
            {
                using var original = family.CreatePreTrainingModel(originalConfig!).Module;
                RnaLm.Checkpoints.Checkpoint.LoadWeights(original, family.Naming, new[] { Path.Combine(initFrom, RnaLm.Checkpoints.Checkpoint.WeightsFile) });
                var grown = VocabularyExtension.CopyInto(original, model.Module, originalConfig!.VocabSize, config.VocabSize);
                context.Error.WriteLine($"rnalm pretrain: vocabulary extended from {originalConfig.VocabSize} to {config.VocabSize} tokens ({string.Join(", ", tokenizer.Vocabulary.Tokens.Skip(originalConfig.VocabSize))}); new rows of {string.Join(", ", grown)}");
            }
            model.Module.to(device);
            var task = new MlmTrainingTask(model, family, config, tokenizer,
                trainRecords.Select(r => r.Sequence).ToList(), heldOutRecords.Select(r => r.Sequence).ToList(), masker, scheme, options.Seed, device,
                trainTypes, heldOutTypes) { TypeMaskProbability = typeMaskProbability };
            var info = new System.Collections.Generic.Dictionary<string, string>(StringComparer.Ordinal) { ["train"] = Path.GetFullPath(trainPath), ["held_out_fraction"] = heldOutFraction.ToString("R", CultureInfo.InvariantCulture) };
            if (initFrom is not null) info["init_from"] = Path.GetFullPath(initFrom);
            else info["model"] = variant.Name;
            if (extendedVocabulary is not null) info["vocabulary_from"] = extendedVocabulary.Name;
            info["types"] = typeSource.ToString().ToLowerInvariant();
            var runner = new Trainer(task, options with { RunInfo = info }, outputDir, context.Error, interactive: context.ErrorIsTerminal);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm pretrain: {(initFrom is null ? variant.Name : $"{family.Name} from {initFrom}")} ({ModelSetup.CountParameters(model.Module):N0} parameters), {trainRecords.Count} training and {heldOutRecords.Count} held-out records of {trainPath}, {scheme.ToString().ToLowerInvariant()} masking, device {device.type}"));
            var result = runner.Run(resumeFrom);
            TrainingCurvesFile.Write(context, "pretrain", outputDir, result.FinalModel ?? result.LastCheckpoint);
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
