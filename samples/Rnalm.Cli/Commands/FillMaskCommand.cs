using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Tokenization;
using TorchSharp;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm fill-mask</c>: the most likely tokens for every <c>&lt;mask&gt;</c> of a text, printed like the Hugging Face
/// fill-mask pipeline (a list of candidates for one mask, a list of such lists for several).
/// </summary>
internal static class FillMaskCommand
{
    private sealed record Candidate(float Score, int Token, string TokenStr, string Sequence);

    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = DefaultModel.CheckpointHelp,
            HelpName = "DIR",
            DefaultValueFactory = _ => DefaultModel.Directory,
        };
        var topK = new Option<int>("--top-k")
        {
            Description = "Candidates per mask.",
            HelpName = "K",
            DefaultValueFactory = _ => 5,
            CustomParser = OptionParsers.AtLeast("--top-k", 1),
        };
        var text = new Argument<string>("TEXT")
        {
            Description = "A sequence with one or more <mask> tokens (lower case, with the brackets), e.g. ACG<mask>UU.",
        };

        var command = new Command("fill-mask", "Predict the tokens at the <mask> positions of a sequence.");
        command.Options.Add(checkpoint);
        command.Options.Add(topK);
        command.Arguments.Add(text);
        command.SetAction(parse =>
        {
            var results = Predict(context, parse.GetRequiredValue(checkpoint), parse.GetValue(topK), parse.GetRequiredValue(text));
            JsonOutput.Write(context.Out, indented: true, writer =>
            {
                bool several = results.Count > 1;
                if (several) writer.WriteStartArray();
                foreach (var candidates in results)
                {
                    writer.WriteStartArray();
                    foreach (var c in candidates)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("score", c.Score);
                        writer.WriteNumber("token", c.Token);
                        writer.WriteString("token_str", c.TokenStr);
                        writer.WriteString("sequence", c.Sequence);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                }
                if (several) writer.WriteEndArray();
            });
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>For each mask position in text order, the <paramref name="topK"/> most probable tokens (softmax over the full vocabulary).</summary>
    private static List<List<Candidate>> Predict(CliContext context, string checkpointDir, int topK, string text)
    {
        var device = TorchSetup.Device;
        using var checkpoint = Checkpoint.Load(checkpointDir, context.Registry, device);
        var tokenizer = checkpoint.Tokenizer;
        var vocabulary = tokenizer.Vocabulary;
        int maskId = vocabulary.MaskId
            ?? throw new CliException($"The vocabulary of '{checkpointDir}' has no '{Vocabulary.MaskToken}' token.");
        if (topK > vocabulary.Count)
        {
            throw new UsageException($"--top-k {topK} is larger than the vocabulary ({vocabulary.Count} tokens).");
        }

        var encoding = tokenizer.Encode(text);
        int[] ids = encoding.InputIds;
        int[] maskPositions = Enumerable.Range(0, ids.Length).Where(i => ids[i] == maskId).ToArray();
        if (maskPositions.Length == 0)
        {
            throw new UsageException(
                $"TEXT has no '{Vocabulary.MaskToken}' token (write it in lower case with the brackets, e.g. ACG{Vocabulary.MaskToken}UU).");
        }
        if (encoding.ExceedsModelMaxLength)
        {
            throw new CliException(
                $"TEXT has {encoding.Length} tokens (special tokens included), more than the model's maximum of {tokenizer.Options.ModelMaxLength}.");
        }

        var model = checkpoint.Model;
        model.Module.eval();
        var results = new List<List<Candidate>>(maskPositions.Length);
        using var inference = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        var (inputIds, attentionMask) = encoding.ToTensors(device);
        var logits = model.Forward(inputIds, attentionMask).Logits.select(0, 0);
        foreach (int position in maskPositions)
        {
            var (values, indices) = logits.select(0, position).softmax(-1).topk(topK);
            float[] scores = values.cpu().data<float>().ToArray();
            long[] tokens = indices.cpu().data<long>().ToArray();
            var candidates = new List<Candidate>(topK);
            for (int k = 0; k < topK; k++)
            {
                int token = checked((int)tokens[k]);
                int[] filled = (int[])ids.Clone();
                filled[position] = token;
                // As the Hugging Face pipeline: one mask decodes without special tokens; with several, the special
                // tokens stay, so the other masks remain visible where they are.
                candidates.Add(new Candidate(scores[k], token, tokenizer.IdToToken(token), tokenizer.Decode(filled, skipSpecialTokens: maskPositions.Length == 1)));
            }
            results.Add(candidates);
        }
        return results;
    }
}
