using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Models;

namespace RnaLm.Cli.Commands;

/// <summary><c>rnalm models [--json]</c>: every registered model variant with its size.</summary>
internal static class ModelsCommand
{
    private static readonly string[] Headers =
        ["name", "family", "layers", "hidden", "heads", "intermediate", "vocab", "max tokens", "parameters"];

    // Columns after the first two are numbers and are right-aligned.
    private const int FirstNumericColumn = 2;

    public static Command Create(CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of a table." };
        var command = new Command("models", "List every registered model variant with its dimensions and parameter count.");
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var variants = context.Registry.Variants;
            if (parse.GetValue(json))
            {
                WriteJson(context.Out, variants);
            }
            else
            {
                WriteTable(context.Out, variants);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteJson(TextWriter output, IReadOnlyList<IModelVariant> variants) =>
        JsonOutput.Write(output, indented: true, writer =>
        {
            writer.WriteStartArray();
            foreach (var variant in variants)
            {
                var config = variant.Config;
                writer.WriteStartObject();
                writer.WriteString("name", variant.Name);
                writer.WriteString("family", variant.Family.Name);
                writer.WriteNumber("layers", config.NumHiddenLayers);
                writer.WriteNumber("hidden", config.HiddenSize);
                writer.WriteNumber("heads", config.NumAttentionHeads);
                writer.WriteNumber("intermediate", config.IntermediateSize);
                writer.WriteNumber("vocab_size", config.VocabSize);
                if (variant.MaxTokens is int maxTokens)
                {
                    writer.WriteNumber("max_tokens", maxTokens);
                }
                else
                {
                    writer.WriteNull("max_tokens");
                }
                writer.WriteNumber("parameters", variant.Parameters);
                writer.WriteString("description", variant.Family.Description);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });

    private static void WriteTable(TextWriter output, IReadOnlyList<IModelVariant> variants)
    {
        var rows = new List<string[]> { Headers };
        foreach (var variant in variants)
        {
            var config = variant.Config;
            rows.Add(
            [
                variant.Name,
                variant.Family.Name,
                Number(config.NumHiddenLayers),
                Number(config.HiddenSize),
                Number(config.NumAttentionHeads),
                Number(config.IntermediateSize),
                Number(config.VocabSize),
                variant.MaxTokens is int maxTokens ? Number(maxTokens) : "unbounded",
                Number(variant.Parameters),
            ]);
        }

        var widths = Enumerable.Range(0, Headers.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            var cells = row.Select((cell, c) => c >= FirstNumericColumn ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
