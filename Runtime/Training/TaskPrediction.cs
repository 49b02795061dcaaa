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
    /// <summary>The windows the record was split into (1 when it fits the model).</summary>
    public int Windows { get; init; } = 1;

    /// <summary>STACK models: the types the soft vote used and their weights.</summary>
    public StackChoice? Stack { get; init; }

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
    /// length; results do not depend on the batch size. Records longer than the model are split into windows
    /// (default) or truncated, as <paramref name="chunking"/> says; a STACK model runs each input once per predicted type.
    /// </summary>
    public static IReadOnlyList<TaskPrediction> Predict(FineTuning.FineTunedModel model, IReadOnlyList<(string Name, string Sequence)> sequences,
        int batchSize = 32, Device? device = null, ChunkOptions? chunking = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var tokenizer = model.Tokenizer;
        FineTuning.CheckTokenizer(model.Task, tokenizer);
        chunking ??= ChunkOptions.Default;
        var target = device ?? CPU;
        var results = new TaskPrediction[sequences.Count];
        var module = model.Model.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            IReadOnlyList<StackChoice>? choices = model.Stack is { } stack
                ? RnaTypePredictor.Choose(stack.Predictor, tokenizer, model.Config, sequences.Select(s => s.Sequence).ToList(), stack.TopK, chunking, batchSize, target)
                : null;
            using var inference = inference_mode();
            var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Sequence.Length).ThenBy(i => i).ToArray();
            foreach (var chunk in order.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                var inputs = TaskInputs.Create(tokenizer, model.Config, chunk.Select(i => sequences[i].Sequence).ToList(), chunking,
                    choices is null ? null : chunk.Select(i => choices[i]).ToList());
                var logits = inputs.Logits(model.Model, target, out var covered);
                var probabilities = Probabilities(model.Task, logits, covered);
                // One copy to the host per batch: [B, C], [B, N] or [B, N, N], each row padded to the longest record.
                int rowSize = (int)(probabilities.numel() / chunk.Length);
                int width = (int)probabilities.shape[^1];
                float[] host = probabilities.cpu().data<float>().ToArray();
                for (int b = 0; b < chunk.Length; b++)
                {
                    int index = chunk[b];
                    int length = inputs.Lengths[b];
                    var row = host.AsSpan(b * rowSize, rowSize);
                    float[] values = model.Task switch
                    {
                        PredictionTask.Sequence => row.ToArray(),
                        PredictionTask.Token => row[..length].ToArray(),
                        _ => Square(row, width, length),
                    };
                    bool truncated = inputs.Long[b] && chunking.Policy == LongRecordPolicy.Truncate;
                    results[index] = new TaskPrediction(sequences[index].Name, length, truncated, values)
                    {
                        Windows = inputs.Windows[b].Count,
                        Stack = choices?[index],
                    };
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
    /// Probabilities from record logits: softmax over classes [B, C]; P(paired) [B, N] from the two token logits;
    /// or pair probabilities [B, N, N] (<see cref="PairProbabilities"/>).
    /// </summary>
    private static Tensor Probabilities(PredictionTask task, Tensor logits, Tensor? covered) => task switch
    {
        PredictionTask.Sequence => logits.softmax(-1),
        PredictionTask.Token => logits.softmax(-1).select(-1, 1),
        _ => PairProbabilities(logits, covered),
    };

    /// <summary>
    /// Symmetric pair probabilities [B, N, N] with a zero diagonal from pair logits [B, N, N]: the sigmoid of the upper
    /// triangle the head is trained on, mirrored; pairs no window covered (<paramref name="covered"/> false) are 0.
    /// </summary>
    public static Tensor PairProbabilities(Tensor logits, Tensor? covered)
    {
        ArgumentNullException.ThrowIfNull(logits);
        using var scope = NewDisposeScope();
        var probabilities = logits.sigmoid();
        if (covered is not null) probabilities = probabilities * covered.to_type(probabilities.dtype);
        var upper = probabilities.triu(1);
        return (upper + upper.transpose(1, 2)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The top-left <paramref name="length"/> × <paramref name="length"/> block of a padded square row.</summary>
    private static float[] Square(ReadOnlySpan<float> row, int width, int length)
    {
        var values = new float[length * length];
        for (int i = 0; i < length; i++) row.Slice(i * width, length).CopyTo(values.AsSpan(i * length, length));
        return values;
    }
}
