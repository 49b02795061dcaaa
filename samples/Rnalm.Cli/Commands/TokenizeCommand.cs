using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Tokenization;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm tokenize</c>: encodes texts with a checkpoint's or a registered model's tokenizer and prints one JSON line
/// per text, <c>{"input_ids": [...], "attention_mask": [...]}</c>.
/// </summary>
internal static class TokenizeCommand
{
    private const string PadLongest = "longest";
    private const string PadMaxLength = "max_length";

    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "Checkpoint folder whose vocab.txt and tokenizer_config.json to use (no weights are loaded); default: the built-in rnalm-mini model.",
            HelpName = "DIR",
        };
        var model = new Option<string>("--model")
        {
            Description = "Registered model name whose built-in tokenizer to use (see 'rnalm models').",
            HelpName = "NAME",
        };
        var pair = new Option<string>("--pair")
        {
            Description = "Second text of a pair, encoded as <cls> TEXT <eos> PAIR <eos> for every TEXT.",
            HelpName = "TEXT",
        };
        var noSpecial = new Option<bool>("--no-special-tokens") { Description = "Do not add <cls>/<eos>." };
        var noBos = new Option<bool>("--no-bos") { Description = "Do not add <cls> at the start." };
        var noEos = new Option<bool>("--no-eos") { Description = "Do not add <eos> at the end." };
        var noUpper = new Option<bool>("--no-upper-case") { Description = "Do not upper-case the text before lookup." };
        var noTToU = new Option<bool>("--no-t-to-u") { Description = "Do not replace T with U." };
        var maxLength = new Option<int?>("--max-length")
        {
            Description = "Length limit (special tokens included) for --truncation and --padding max_length.",
            HelpName = "N",
            CustomParser = OptionParsers.OptionalAtLeast("--max-length", 1),
        };
        var truncation = new Option<bool>("--truncation")
        {
            Description = "Truncate to --max-length (default: the tokenizer's model_max_length).",
        };
        var padding = new Option<string>("--padding")
        {
            Description = "Pad to the longest TEXT, or to --max-length.",
            HelpName = "max_length|longest",
        };
        padding.AcceptOnlyFromAmong(PadMaxLength, PadLongest);
        var texts = new Argument<string[]>("TEXT")
        {
            Description = "Sequences to encode, e.g. ACGU, gcAUt or GGU<mask>C.",
            Arity = ArgumentArity.OneOrMore,
        };

        var command = new Command("tokenize", "Encode texts to token ids and attention masks, one JSON line per text.");
        foreach (var option in new Option[] { checkpoint, model, pair, noSpecial, noBos, noEos, noUpper, noTToU, maxLength, truncation, padding })
        {
            command.Options.Add(option);
        }
        command.Arguments.Add(texts);
        command.Validators.Add(result =>
        {
            bool hasCheckpoint = result.GetResult(checkpoint) is not null;
            bool hasModel = result.GetResult(model) is not null;
            if (hasCheckpoint && hasModel)
            {
                result.AddError("Give at most one of --checkpoint DIR or --model NAME.");
            }
            // Read the raw token: converting an invalid --padding value here would throw instead of reporting it.
            if (result.GetResult(padding)?.Tokens is [{ Value: PadMaxLength }] && result.GetResult(maxLength) is null)
            {
                result.AddError("--padding max_length needs --max-length N.");
            }
        });

        command.SetAction(parse =>
        {
            var tokenizer = LoadTokenizer(context, parse.GetValue(checkpoint), parse.GetValue(model));
            var options = tokenizer.Options;
            tokenizer = tokenizer.With(options with
            {
                AddBos = options.AddBos && !parse.GetValue(noBos),
                AddEos = options.AddEos && !parse.GetValue(noEos),
                UpperCase = options.UpperCase && !parse.GetValue(noUpper),
                ReplaceTWithU = options.ReplaceTWithU && !parse.GetValue(noTToU),
            });
            string? padMode = parse.GetValue(padding);
            var encodeOptions = new EncodeOptions
            {
                AddSpecialTokens = !parse.GetValue(noSpecial),
                MaxLength = parse.GetValue(maxLength),
                Truncation = parse.GetValue(truncation),
                Padding = padMode == PadMaxLength ? PaddingStrategy.MaxLength : PaddingStrategy.None,
            };
            var inputs = parse.GetRequiredValue(texts);
            string? pairText = parse.GetValue(pair);

            List<EncodedSequence> encodings;
            try
            {
                encodings = inputs.Select(text => tokenizer.Encode(text, pairText, encodeOptions)).ToList();
            }
            catch (ArgumentException e) when (e.ParamName == "options")
            {
                // The options cannot work for any text (e.g. truncation below the special tokens): a usage error.
                throw new UsageException($"--max-length {encodeOptions.MaxLength} with --truncation: {ErrorReport.MessageOf(e)}", e);
            }
            for (int i = 0; i < encodings.Count; i++)
            {
                if (encodings[i].ExceedsModelMaxLength && !encodeOptions.Truncation)
                {
                    context.Error.WriteLine(
                        $"rnalm: warning: TEXT #{i + 1} has {encodings[i].RealLength} tokens, more than the model's maximum of " +
                        $"{tokenizer.Options.ModelMaxLength}; a model will reject it (use --truncation to cut it).");
                }
            }

            int padTo = padMode == PadLongest ? encodings.Max(e => e.Length) : 0;
            foreach (var encoding in encodings)
            {
                WriteEncoding(context, tokenizer, encoding, padTo);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static RnaTokenizer LoadTokenizer(CliContext context, string? checkpointDir, string? modelName)
    {
        if (checkpointDir is not null || modelName is null)
        {
            checkpointDir ??= DefaultModel.Directory;
            var (_, config) = Checkpoint.ReadConfig(checkpointDir, context.Registry);
            return Checkpoint.ReadTokenizer(checkpointDir, config);
        }
        try
        {
            return context.Registry.GetVariant(modelName).CreateTokenizer();
        }
        catch (KeyNotFoundException e)
        {
            throw new UsageException(e.Message, e);
        }
    }

    /// <summary>Writes one encoding as compact JSON, right-padded with <c>&lt;pad&gt;</c> to <paramref name="padTo"/> positions.</summary>
    private static void WriteEncoding(CliContext context, RnaTokenizer tokenizer, EncodedSequence encoding, int padTo)
    {
        int[] ids = encoding.InputIds;
        int[] mask = encoding.AttentionMask;
        if (padTo > encoding.Length)
        {
            int padId = tokenizer.Vocabulary.PadId
                ?? throw new CliException($"--padding needs a '{Vocabulary.PadToken}' token, but the vocabulary has none.");
            ids = [.. ids, .. Enumerable.Repeat(padId, padTo - encoding.Length)];
            mask = [.. mask, .. new int[padTo - encoding.Length]];
        }
        JsonOutput.Write(context.Out, indented: false, writer =>
        {
            writer.WriteStartObject();
            JsonOutput.WriteIntArray(writer, "input_ids", ids);
            JsonOutput.WriteIntArray(writer, "attention_mask", mask);
            writer.WriteEndObject();
        });
    }
}
