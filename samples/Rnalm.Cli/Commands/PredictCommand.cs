using System;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using RnaLm.Models;
using RnaLm.Structure;
using RnaLm.Training;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm predict</c>: runs a model written by <c>rnalm finetune</c> on sequences without labels — the class of each
/// record (sequence task), which nucleotides are paired (token task) or a dot-bracket structure (contact task).
/// </summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A fine-tuned model folder: the final/ (or checkpoint-N/) folder of 'rnalm finetune'.", HelpName = "DIR", Required = true };
        var input = new Option<string>("--input") { Description = "FASTA or dot-bracket (.dbn) file; labels and structures in it are ignored. For a pair model: a CSV a_name,a_seq,b_name,b_seq[,label] (labels ignored).", HelpName = "FILE", Required = true };
        var chunking = new TrainingOptionParsers.ChunkOptionSet();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per record (JSON Lines) with every probability." };
        var threshold = new Option<double>("--threshold") { Description = "Token task: a nucleotide is paired at this probability; contact task: pairs at or above it form the structure; pair task: the pair interacts at this probability.", HelpName = "P", DefaultValueFactory = _ => 0.5, CustomParser = TrainingOptionParsers.Number("--threshold", 0, 1, minimumExclusive: true) };
        var batchSize = new Option<int>("--batch-size") { Description = "Records per forward pass (results do not depend on it).", HelpName = "N", DefaultValueFactory = _ => 32, CustomParser = OptionParsers.AtLeast("--batch-size", 1) };

        var svg = new Option<string?>("--svg") { Description = "Contact models: folder to write a drawing of each structure to, <name>.svg.", HelpName = "DIR" };
        var png = new Option<string?>("--png") { Description = "Contact models: folder to write a heat map of each pairing-probability map to, <name>.contact.png.", HelpName = "DIR" };

        var command = new Command("predict", "Classify sequences, predict their pairing, or whether two sequences interact, with a model from 'rnalm finetune'.");
        foreach (Option option in new Option[] { checkpoint, input, json, threshold, batchSize, svg, png }) command.Options.Add(option);
        chunking.AddTo(command);
        command.SetAction(parse =>
        {
            string inputPath = parse.GetRequiredValue(input);
            string checkpointDir = parse.GetRequiredValue(checkpoint);
            string configPath = System.IO.Path.Combine(checkpointDir, RnaLm.Checkpoints.Checkpoint.ConfigFile);
            if (System.IO.File.Exists(configPath) && PairPredictor.TaskOf(System.IO.File.ReadAllText(configPath)) == PairPredictor.TaskName)
            {
                return PredictPairs(context, checkpointDir, inputPath, parse.GetValue(threshold), parse.GetValue(json), parse.GetValue(batchSize));
            }
            var records = SequenceFiles.Read(inputPath);
            if (records.Count == 0) throw new CliException($"{inputPath}: no records.");
            var device = TorchSetup.Device;
            using var model = FineTuning.Load(checkpointDir, context.Registry, device);
            var chunkOptions = chunking.Read(parse);
            // In parts of 256 records, for progress; a record's prediction does not depend on the others.
            var progress = new ProgressReporter(context.Error, context.ErrorIsTerminal, "predict", records.Count) { Unit = "records" };
            var predictions = new System.Collections.Generic.List<TaskPrediction>(records.Count);
            foreach (var part in records.Chunk(256))
            {
                predictions.AddRange(TaskPredictor.Predict(model, part.Select(r => (r.Name, r.Sequence)).ToList(), parse.GetValue(batchSize), device, chunkOptions));
                progress.Report(predictions.Count, part.Sum(r => (long)r.Sequence.Length));
            }
            progress.Finish();
            double cut = parse.GetValue(threshold);
            var svgFolder = parse.GetValue(svg) is { } svgPath ? new Plots.PictureFolder(svgPath, "--svg", (inputPath, "the input file")) : null;
            var pngFolder = parse.GetValue(png) is { } pngPath ? new Plots.PictureFolder(pngPath, "--png", (inputPath, "the input file")) : null;
            if ((svgFolder ?? (object?)pngFolder) is not null && model.Task != PredictionTask.Contact)
            {
                throw new UsageException($"--svg and --png draw structures and contact maps: '{parse.GetRequiredValue(checkpoint)}' is a {model.Task.ToString().ToLowerInvariant()} model, not a contact model.");
            }
            bool asJson = parse.GetValue(json);
            if (!asJson && model.Task == PredictionTask.Sequence) context.Out.WriteLine("name\tlabel\tprobability");
            for (int n = 0; n < predictions.Count; n++)
            {
                var p = predictions[n];
                if (p.Truncated)
                {
                    context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"rnalm predict: {records[n].Source}: '{p.Name}' has {records[n].Sequence.Length} nucleotides; the model read the first {p.Nucleotides}."));
                }
                else if (p.Windows > 1)
                {
                    context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"rnalm predict: {records[n].Source}: '{p.Name}' ({records[n].Sequence.Length} nucleotides) is longer than the model; read in {p.Windows} overlapping windows."));
                }
                string read = SequenceDisplay.Nucleotides(model.Tokenizer, records[n].Sequence[..p.Nucleotides]);
                switch (model.Task)
                {
                    case PredictionTask.Sequence:
                        WriteClass(context, model.Labels, p, asJson, model.Tokenizer.Options.RnaTypes);
                        break;
                    case PredictionTask.Token:
                        WritePaired(context, p, read, cut, asJson);
                        break;
                    default:
                        string structure = WriteStructure(context, p, read, cut, asJson, records[n].Source);
                        svgFolder?.Write(svgFolder.PathFor(p.Name, ".svg"), file => System.IO.File.WriteAllText(file, Plots.StructureDrawing.Svg(p.Name, read, DotBracket.Pairs(structure))));
                        pngFolder?.Write(pngFolder.PathFor(p.Name, ".contact.png"), file => Plots.Charts.HeatMap(file, p.Values, p.Nucleotides, $"{p.Name}: pairing probability", "position", "probability"));
                        break;
                }
            }
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm predict: {predictions.Count} records of {inputPath}, {model.Task.ToString().ToLowerInvariant()} model {parse.GetRequiredValue(checkpoint)}"));
            return ExitCodes.Success;
        });
        return command;
    }

    private static int PredictPairs(CliContext context, string checkpointDir, string inputPath, double cut, bool asJson, int batchSize)
    {
        var pairs = PairFiles.Read(inputPath, requireLabels: false);
        if (pairs.Count == 0) throw new CliException($"{inputPath}: no pairs.");
        var device = TorchSetup.Device;
        using var model = PairPredictor.Load(checkpointDir, context.Registry, device);
        var probabilities = PairPredictor.Probabilities(model.Model, model.Tokenizer, model.Config, pairs, batchSize, device);
        if (!asJson) context.Out.WriteLine("a_name\tb_name\tinteracts\tprobability");
        for (int i = 0; i < pairs.Count; i++)
        {
            var pair = pairs[i];
            bool interacts = probabilities[i] >= cut;
            if (!asJson)
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{pair.AName}\t{pair.BName}\t{(interacts ? 1 : 0)}\t{probabilities[i]:F4}"));
                continue;
            }
            JsonOutput.Write(context.Out, indented: false, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("a_name", pair.AName);
                writer.WriteString("b_name", pair.BName);
                writer.WriteBoolean("interacts", interacts);
                JsonOutput.WriteRounded(writer, "probability", probabilities[i]);
                writer.WriteEndObject();
            });
        }
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rnalm predict: {pairs.Count} pairs of {inputPath}, pair model {checkpointDir}"));
        return ExitCodes.Success;
    }

    private static void WriteClass(CliContext context, System.Collections.Generic.IReadOnlyList<string> labels, TaskPrediction p, bool asJson,
        RnaLm.Tokenization.RnaTypeTokens? types)
    {
        int best = p.BestClass;
        if (!asJson)
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Name}\t{labels[best]}\t{p.Values[best]:F4}"));
            return;
        }
        JsonOutput.Write(context.Out, indented: false, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name", p.Name);
            writer.WriteString("label", labels[best]);
            JsonOutput.WriteRounded(writer, "probability", p.Values[best]);
            writer.WriteStartObject("probabilities");
            for (int c = 0; c < labels.Count; c++) JsonOutput.WriteRounded(writer, labels[c], p.Values[c]);
            writer.WriteEndObject();
            if (p.Stack is { } stack && types is not null)
            {
                writer.WriteStartObject("rna_types");
                for (int k = 0; k < stack.Types.Length; k++) JsonOutput.WriteRounded(writer, types.Types[stack.Types[k]], stack.Weights[k]);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        });
    }

    private static void WritePaired(CliContext context, TaskPrediction p, string sequence, double cut, bool asJson)
    {
        var marks = new string(p.Values.Select(v => v >= cut ? '|' : '.').ToArray());
        WritePerNucleotide(context, p, sequence, "paired", marks, asJson, writer =>
        {
            writer.WriteStartArray("paired_probability");
            foreach (float v in p.Values) writer.WriteNumberValue(Math.Round(v, 6));
            writer.WriteEndArray();
        });
    }

    private static string WriteStructure(CliContext context, TaskPrediction p, string sequence, double cut, bool asJson, string origin)
    {
        var map = p.ContactMap();
        System.Collections.Generic.IReadOnlyList<(int I, int J)> pairs;
        string structure;
        try
        {
            pairs = DotBracket.SelectPairs(map, cut);
            structure = DotBracket.FromPairs(p.Nucleotides, pairs);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{origin}: '{p.Name}': no dot-bracket structure: {e.Message}", e);
        }
        WritePerNucleotide(context, p, sequence, "structure", structure, asJson, writer =>
        {
            writer.WriteStartArray("pairs");
            foreach (var (i, j) in pairs)
            {
                writer.WriteStartArray();
                writer.WriteNumberValue(i + 1);
                writer.WriteNumberValue(j + 1);
                writer.WriteNumberValue(Math.Round(map[i, j], 6));
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        });
        return structure;
    }

    /// <summary>
    /// A per-nucleotide result: as text, the FASTA-like triple <c>&gt;name</c>, sequence, <paramref name="line"/>; as
    /// JSON, name, sequence, truncated, <paramref name="field"/> = <paramref name="line"/> and what
    /// <paramref name="details"/> adds.
    /// </summary>
    private static void WritePerNucleotide(CliContext context, TaskPrediction p, string sequence, string field, string line, bool asJson,
        Action<System.Text.Json.Utf8JsonWriter> details)
    {
        if (!asJson)
        {
            context.Out.WriteLine($">{p.Name}");
            context.Out.WriteLine(sequence);
            context.Out.WriteLine(line);
            return;
        }
        JsonOutput.Write(context.Out, indented: false, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name", p.Name);
            writer.WriteString("sequence", sequence);
            writer.WriteBoolean("truncated", p.Truncated);
            writer.WriteString(field, line);
            details(writer);
            writer.WriteEndObject();
        });
    }
}
