using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Structure;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm fold</c>: predicts the secondary structure of each sequence with a structure checkpoint (e.g.
/// ernierna-ss) and prints it as dot-bracket, optionally writing the contact maps to a safetensors file.
/// </summary>
internal static class FoldCommand
{
    private const string ContactMapKey = "contact_map";

    /// <summary>One sequence to fold: its output name, its text and where it came from (for error messages).</summary>
    private sealed record Input(string Name, string Sequence, string Origin);

    private sealed record Settings(string Checkpoint, string? Fasta, string[] Texts, string? Output, double Threshold, string? Svg = null, string? Png = null);

    /// <summary>Builds the <c>fold</c> command; its action writes to <paramref name="context"/>'s writers.</summary>
    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "Checkpoint folder of a secondary-structure model (config.json architectures " +
                "ErnieRnaForSecondaryStructurePrediction, e.g. ernierna-ss).",
            HelpName = "DIR",
            Required = true,
        };
        var input = new Option<string>("--input")
        {
            Description = "FASTA file; each record is named by the first word of its header.",
            HelpName = "FILE.fasta",
        };
        var output = new Option<string>("--output")
        {
            Description = "safetensors file to write <name>.contact_map [L', L'] float32 to (replaced atomically when it exists).",
            HelpName = "FILE.safetensors",
        };
        var threshold = new Option<double>("--threshold")
        {
            Description = "Pairing probability at or above which two bases pair (0 < t <= 1). Conflicts are resolved " +
                "greedily by descending probability, so each base pairs at most once.",
            HelpName = "P",
            DefaultValueFactory = _ => 0.5,
            CustomParser = ParseThreshold,
        };
        var svg = new Option<string?>("--svg")
        {
            Description = "Folder to write a drawing of each structure to, <name>.svg (stems as ladders, loops as circles, pseudoknots as arcs).",
            HelpName = "DIR",
        };
        var png = new Option<string?>("--png")
        {
            Description = "Folder to write a heat map of each pairing-probability map to, <name>.contact.png.",
            HelpName = "DIR",
        };
        var texts = new Argument<string[]>("TEXT")
        {
            Description = "Sequences to fold instead of --input, named seq1, seq2, ... in order.",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var command = new Command("fold",
            "Predict secondary structures with a structure checkpoint: one '>name', token and dot-bracket block per sequence.");
        foreach (var option in new Option[] { checkpoint, input, output, threshold, svg, png })
        {
            command.Options.Add(option);
        }
        command.Arguments.Add(texts);
        command.Validators.Add(result =>
        {
            bool hasInput = result.GetResult(input) is not null;
            bool hasTexts = result.GetResult(texts) is { Tokens.Count: > 0 };
            if (hasInput == hasTexts)
            {
                result.AddError("Give exactly one of --input FILE.fasta or TEXT arguments.");
            }
        });
        command.SetAction(parse => Execute(context, new Settings(
            parse.GetRequiredValue(checkpoint),
            parse.GetValue(input),
            parse.GetValue(texts) ?? [],
            parse.GetValue(output),
            parse.GetValue(threshold),
            parse.GetValue(svg),
            parse.GetValue(png))));
        return command;
    }

    /// <summary>A probability threshold in (0, 1], as a parse error (exit code 2) otherwise.</summary>
    private static double ParseThreshold(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            result.AddError($"--threshold expects a number, not '{text}'.");
            return 0.5;
        }
        if (!(value > 0 && value <= 1))
        {
            result.AddError($"--threshold must be greater than 0 and at most 1 (got {text}).");
        }
        return value;
    }

    private static int Execute(CliContext context, Settings settings)
    {
        var clock = Stopwatch.StartNew();
        if (settings.Output is not null)
        {
            OutputPaths.CheckFile(settings.Output, settings.Checkpoint, (settings.Fasta, "the input FASTA file"));
            OutputPaths.RemoveLeftovers(context, "fold", settings.Output);
        }
        var inputs = ReadInputs(settings);
        var svgFolder = settings.Svg is null ? null : new Plots.PictureFolder(settings.Svg, "--svg", (settings.Fasta, "the input FASTA file"));
        var pngFolder = settings.Png is null ? null : new Plots.PictureFolder(settings.Png, "--png", (settings.Fasta, "the input FASTA file"));

        var device = TorchSetup.Device;
        using var checkpoint = Checkpoint.Load(settings.Checkpoint, context.Registry, device);
        if (checkpoint.Model is not IRnaStructureModel model)
        {
            throw new CliException(
                $"Checkpoint '{settings.Checkpoint}' (model_type '{checkpoint.Config.ModelType}', architectures " +
                $"{Architectures(settings.Checkpoint)}) has no secondary-structure head: it loads as {checkpoint.Model.GetType().Name}. " +
                "'rnalm fold' needs a structure checkpoint, i.e. an ernierna checkpoint whose config.json architectures is " +
                "ErnieRnaForSecondaryStructurePrediction (e.g. ernierna-ss).");
        }
        var tokenizer = checkpoint.Tokenizer;
        var encodings = inputs.Select(i => RecordEncoding.Encode(tokenizer, i.Sequence, i.Origin)).ToList();
        for (int n = 0; n < inputs.Count; n++)
        {
            if (encodings[n].ExceedsModelMaxLength)
            {
                throw new CliException(
                    $"{inputs[n].Origin} has {encodings[n].Length} tokens (special tokens included), more than the model's " +
                    $"maximum of {tokenizer.Options.ModelMaxLength}.");
            }
        }

        var contactMaps = new List<KeyValuePair<string, Tensor>>();
        try
        {
            model.Module.eval();
            using var inference = torch.inference_mode();
            // The structures go to stdout as they come: a bar is drawn only when stdout does not share the terminal.
            var progress = new RnaLm.Training.ProgressReporter(context.Error, context.ErrorIsTerminal && Console.IsOutputRedirected, "fold", inputs.Count) { Unit = "sequences" };
            for (int n = 0; n < inputs.Count; n++)
            {
                if (n > 0) progress.Report(n, encodings[n - 1].Length);
                // One sequence per forward pass: the reference SS head gives NaN on padded batches (models.md §2.5).
                var map = Predict(model, encodings[n], device, inputs[n]);
                var tokens = tokenizer.Tokenize(inputs[n].Sequence);
                int length = checked((int)map.shape[0]);
                if (tokens.Count != length)
                {
                    map.Dispose();
                    throw new CliException(
                        $"{inputs[n].Origin}: the contact map has {length} rows but the sequence has {tokens.Count} tokens " +
                        "without special tokens; fold expects the tokenizer to add exactly <cls> and <eos>.");
                }
                string structure;
                try
                {
                    structure = DotBracket.FromContactMap(map, settings.Threshold);
                }
                catch (ArgumentException e)
                {
                    map.Dispose();
                    throw new CliException($"{inputs[n].Origin}: no dot-bracket structure: {e.Message}", e);
                }
                context.Out.WriteLine($">{inputs[n].Name}");
                context.Out.WriteLine(SequenceDisplay.JoinTokens(tokens));
                context.Out.WriteLine(structure);
                string letters = new(tokens.Select(t => t.Length == 1 ? t[0] : t[0] == '<' ? '?' : t[0]).ToArray());
                svgFolder?.Write(svgFolder.PathFor(inputs[n].Name, ".svg"),
                    file => File.WriteAllText(file, Plots.StructureDrawing.Svg(inputs[n].Name, letters, DotBracket.Pairs(structure))));
                pngFolder?.Write(pngFolder.PathFor(inputs[n].Name, ".contact.png"),
                    file => Plots.Charts.HeatMap(file, map.data<float>().ToArray(), length, $"{inputs[n].Name}: pairing probability", "position", "probability"));
                if (settings.Output is null)
                {
                    map.Dispose();
                }
                else
                {
                    contactMaps.Add(new KeyValuePair<string, Tensor>($"{inputs[n].Name}.{ContactMapKey}", map));
                }
            }
            progress.Report(inputs.Count, encodings[^1].Length);
            progress.Finish();
            if (settings.Output is not null)
            {
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["model_type"] = checkpoint.Config.ModelType,
                    ["checkpoint"] = Path.GetFullPath(settings.Checkpoint),
                };
                try
                {
                    SafeTensors.Save(settings.Output, contactMaps, metadata);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw OutputPaths.WriteFailed(settings.Output, e);
                }
            }
        }
        finally
        {
            foreach (var (_, map) in contactMaps) map.Dispose();
        }

        string destination = settings.Output is null ? "" : $" -> {settings.Output}";
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rnalm fold: {inputs.Count} sequence{(inputs.Count == 1 ? "" : "s")}, {encodings.Sum(e => e.Length)} tokens, {clock.Elapsed.TotalSeconds:F2} s{destination}"));
        return ExitCodes.Success;
    }

    /// <summary>The <c>architectures</c> list of a checkpoint's config.json for messages, e.g. <c>[SpliceBertForPreTraining]</c>.</summary>
    private static string Architectures(string checkpointDir)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpointDir, Checkpoint.ConfigFile)));
        if (!document.RootElement.TryGetProperty("architectures", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return "(not given)";
        }
        return "[" + string.Join(", ", list.EnumerateArray().Select(a => a.ValueKind == JsonValueKind.String ? a.GetString() : a.GetRawText())) + "]";
    }

    /// <summary>The sequences to fold with their names: FASTA records, or the TEXT arguments named seq1, seq2, ...</summary>
    private static List<Input> ReadInputs(Settings settings)
    {
        List<Input> inputs;
        if (settings.Fasta is not null)
        {
            inputs = FastaReader.Read(settings.Fasta).Select((r, i) =>
                new Input(r.Name, r.Sequence, $"{settings.Fasta}:{r.Line}: record '{r.Name}' (#{i + 1})")).ToList();
            if (inputs.Count == 0)
            {
                throw new CliException($"FASTA file '{settings.Fasta}' has no records.");
            }
        }
        else
        {
            inputs = settings.Texts.Select((text, i) => new Input($"seq{i + 1}", text, $"TEXT #{i + 1} (seq{i + 1})")).ToList();
            var empty = inputs.FirstOrDefault(i => i.Sequence.Length == 0);
            if (empty is not null)
            {
                throw new UsageException($"{empty.Origin} is empty; give a nucleotide sequence.");
            }
        }
        return inputs;
    }

    /// <summary>
    /// Runs the structure model on one unpadded sequence and returns its [L', L'] contact map as a float32 CPU tensor
    /// the caller owns (special tokens removed, channel dimension dropped).
    /// </summary>
    private static Tensor Predict(IRnaStructureModel model, EncodedSequence encoding, Device device, Input input)
    {
        using var scope = torch.NewDisposeScope();
        var (inputIds, attentionMask) = encoding.ToTensors(device);
        StructureOutput output;
        try
        {
            output = model.Predict(inputIds, attentionMask);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{input.Origin}: the model rejected the sequence: {e.Message}", e);
        }
        var map = output.ContactMap.select(0, 0).select(-1, 0).to_type(ScalarType.Float32).cpu().contiguous().clone();
        return map.MoveToOuterDisposeScope();
    }

}
