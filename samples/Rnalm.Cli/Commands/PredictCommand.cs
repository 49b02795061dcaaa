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
        var input = new Option<string>("--input") { Description = "FASTA or dot-bracket (.dbn) file; labels and structures in it are ignored.", HelpName = "FILE", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per record (JSON Lines) with every probability." };
        var threshold = new Option<double>("--threshold") { Description = "Token task: a nucleotide is paired at this probability; contact task: pairs at or above it form the structure.", HelpName = "P", DefaultValueFactory = _ => 0.5, CustomParser = TrainingOptionParsers.Number("--threshold", 0, 1, minimumExclusive: true) };
        var batchSize = new Option<int>("--batch-size") { Description = "Records per forward pass (results do not depend on it).", HelpName = "N", DefaultValueFactory = _ => 32, CustomParser = OptionParsers.AtLeast("--batch-size", 1) };

        var command = new Command("predict", "Classify sequences or predict their pairing with a model from 'rnalm finetune'.");
        foreach (Option option in new Option[] { checkpoint, input, json, threshold, batchSize }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string inputPath = parse.GetRequiredValue(input);
            var records = SequenceFiles.Read(inputPath);
            if (records.Count == 0) throw new CliException($"{inputPath}: no records.");
            var device = TorchSetup.Device;
            using var model = FineTuning.Load(parse.GetRequiredValue(checkpoint), context.Registry, device);
            var predictions = TaskPredictor.Predict(model, records.Select(r => (r.Name, r.Sequence)).ToList(), parse.GetValue(batchSize), device);
            double cut = parse.GetValue(threshold);
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
                string read = records[n].Sequence[..p.Nucleotides];
                switch (model.Task)
                {
                    case PredictionTask.Sequence:
                        WriteClass(context, model.Labels, p, asJson);
                        break;
                    case PredictionTask.Token:
                        WritePaired(context, p, read, cut, asJson);
                        break;
                    default:
                        WriteStructure(context, p, read, cut, asJson, records[n].Source);
                        break;
                }
            }
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rnalm predict: {predictions.Count} records of {inputPath}, {model.Task.ToString().ToLowerInvariant()} model {parse.GetRequiredValue(checkpoint)}"));
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteClass(CliContext context, System.Collections.Generic.IReadOnlyList<string> labels, TaskPrediction p, bool asJson)
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

    private static void WriteStructure(CliContext context, TaskPrediction p, string sequence, double cut, bool asJson, string origin)
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
