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
        if (model.Task != PredictionTask.Sequence && tokenizer.Options.Nmers != 1)
        {
            throw new ArgumentException($"Token and contact models label nucleotides and need a 1-mer tokenizer (this one uses {tokenizer.Options.Nmers}-mers).");
        }
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
                var texts = chunk.Select(i => Clip(sequences[i].Sequence, maxNucleotides)).ToList();
                var encoding = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.Longest });
                var (ids, mask) = ToTensors(encoding.InputIds, encoding.AttentionMask, target);
                var logits = model.Model.Forward(ids, mask).Logits;
                for (int b = 0; b < chunk.Length; b++)
                {
                    int index = chunk[b];
                    int length = texts[b].Length;
                    bool truncated = sequences[index].Sequence.Length > length;
                    results[index] = new TaskPrediction(sequences[index].Name, length, truncated, Values(model.Task, logits, b, length));
                }
            }
        }
        finally
        {
            if (wasTraining) module.train();
        }
        return results;
    }

    private static string Clip(string sequence, int maxNucleotides) =>
        sequence.Length > maxNucleotides ? sequence[..maxNucleotides] : sequence;

    private static float[] Values(PredictionTask task, Tensor logits, int row, int nucleotides)
    {
        switch (task)
        {
            case PredictionTask.Sequence:
                // logits [B, C] -> class probabilities
                return logits[row].softmax(-1).cpu().data<float>().ToArray();
            case PredictionTask.Token:
                // logits [B, L', 2] -> P(paired) for the first N positions (the head removed <cls>/<eos>)
                return logits[row, TensorIndex.Slice(0, nucleotides), 1].sub(logits[row, TensorIndex.Slice(0, nucleotides), 0])
                    .sigmoid().cpu().data<float>().ToArray();
            default:
            {
                // logits [B, L', L', 1] -> symmetric pair probabilities with a zero diagonal
                var pair = logits[row, TensorIndex.Slice(0, nucleotides), TensorIndex.Slice(0, nucleotides), 0].sigmoid();
                var upper = pair.triu(1);
                return (upper + upper.t()).contiguous().cpu().data<float>().ToArray();
            }
        }
    }

    /// <summary>Padded id and attention-mask rows as <c>[B, L]</c> int64 tensors.</summary>
    internal static (Tensor Ids, Tensor Mask) ToTensors(int[][] inputIds, int[][] attentionMask, Device device)
    {
        int b = inputIds.Length, l = inputIds[0].Length;
        var ids = new long[b * l];
        var mask = new long[b * l];
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < l; j++)
            {
                ids[i * l + j] = inputIds[i][j];
                mask[i * l + j] = attentionMask[i][j];
            }
        }
        long[] shape = { b, l };
        return (tensor(ids, shape, int64, device), tensor(mask, shape, int64, device));
    }
}
