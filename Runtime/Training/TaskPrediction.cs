using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>
/// What a fine-tuned model predicts for one record. <see cref="Values"/> holds, by task: the probability of every
/// class (sequence, in label order); the probability that each nucleotide is paired (token, one per nucleotide read);
/// or the pairing probability of every nucleotide pair, row-major <c>[N, N]</c> with a zero diagonal (contact).
/// </summary>
/// <param name="Name">The record's name.</param>
/// <param name="Nucleotides">Nucleotides the model read (the first ones when the record is longer than the model).</param>
/// <param name="Truncated">The record had more nucleotides than the model reads.</param>
/// <param name="Values">Probabilities, as described above.</param>
public sealed record TaskPrediction(string Name, int Nucleotides, bool Truncated, float[] Values)
{
    /// <summary>The most probable class (sequence task).</summary>
    public int BestClass
    {
        get
        {
            int best = 0;
            for (int i = 1; i < Values.Length; i++) if (Values[i] > Values[best]) best = i;
            return best;
        }
    }

    /// <summary>The pairing probabilities as an <c>[N, N]</c> matrix (contact task).</summary>
    public float[,] ContactMap()
    {
        if (Values.Length != Nucleotides * Nucleotides)
        {
            throw new InvalidOperationException($"{Name}: {Values.Length} values are not an {Nucleotides} x {Nucleotides} contact map.");
        }
        var map = new float[Nucleotides, Nucleotides];
        Buffer.BlockCopy(Values, 0, map, 0, Values.Length * sizeof(float));
        return map;
    }
}

/// <summary>Runs a model written by <c>rnalm finetune</c> on unlabelled sequences (inference mode, batches by length).</summary>
public static class TaskPredictor
{
    /// <summary>
    /// Predictions for <paramref name="sequences"/> (name, sequence) in input order. Batches hold records of similar
    /// length; results do not depend on the batch size.
    /// </summary>
    public static IReadOnlyList<TaskPrediction> Predict(FineTuning.FineTunedModel model, IReadOnlyList<(string Name, string Sequence)> sequences,
        int batchSize = 32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var tokenizer = model.Tokenizer;
        FineTuning.CheckTokenizer(model.Task, tokenizer);
        int maxNucleotides = FineTuning.MaxNucleotides(model.Config, tokenizer);
        var target = device ?? CPU;
        var results = new TaskPrediction[sequences.Count];
        var module = model.Model.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var inference = inference_mode();
            var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Sequence.Length).ThenBy(i => i).ToArray();
            foreach (var chunk in order.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                var texts = chunk.Select(i => FineTuning.Clip(sequences[i].Sequence, maxNucleotides)).ToList();
                var encoding = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.Longest });
                var (ids, mask) = FineTuning.ToTensors(encoding.InputIds, encoding.AttentionMask, target);
                var probabilities = Probabilities(model.Task, model.Model.Forward(ids, mask).Logits);
                // One copy to the host per batch: [B, C], [B, L'] or [B, L', L'], each row padded to the longest record.
                int rowSize = (int)(probabilities.numel() / chunk.Length);
                int width = (int)probabilities.shape[^1];
                float[] host = probabilities.cpu().data<float>().ToArray();
                for (int b = 0; b < chunk.Length; b++)
                {
                    int index = chunk[b];
                    int length = texts[b].Length;
                    var row = host.AsSpan(b * rowSize, rowSize);
                    float[] values = model.Task switch
                    {
                        PredictionTask.Sequence => row.ToArray(),
                        PredictionTask.Token => row[..length].ToArray(),
                        _ => Square(row, width, length),
                    };
                    results[index] = new TaskPrediction(sequences[index].Name, length, sequences[index].Sequence.Length > length, values);
                }
            }
        }
        finally
        {
            if (wasTraining) module.train();
        }
        return results;
    }

    /// <summary>
    /// Probabilities from the head's logits: softmax over classes [B, C]; P(paired) [B, L'] from the two token logits;
    /// or symmetric pair probabilities [B, L', L'] with a zero diagonal, from the upper triangle the head was trained on.
    /// </summary>
    private static Tensor Probabilities(PredictionTask task, Tensor logits)
    {
        switch (task)
        {
            case PredictionTask.Sequence:
                return logits.softmax(-1);
            case PredictionTask.Token:
                return logits.softmax(-1).select(-1, 1);
            default:
            {
                var upper = logits.squeeze(-1).sigmoid().triu(1);
                return (upper + upper.transpose(1, 2)).contiguous();
            }
        }
    }

    /// <summary>The top-left <paramref name="length"/> × <paramref name="length"/> block of a padded square row.</summary>
    private static float[] Square(ReadOnlySpan<float> row, int width, int length)
    {
        var values = new float[length * length];
        for (int i = 0; i < length; i++) row.Slice(i * width, length).CopyTo(values.AsSpan(i * length, length));
        return values;
    }
}
