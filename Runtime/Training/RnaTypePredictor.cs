using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>
/// Predicts the coarse RNA type of sequences with a masked-language model whose vocabulary has RNA type tokens: the
/// input is <c>&lt;cls&gt; sequence &lt;indicator&gt; &lt;mask&gt; &lt;eos&gt;</c>, and the probabilities are the softmax of the MLM
/// logits at the masked position over the type tokens only. A record longer than the model is split into windows
/// (<see cref="TaskInputs"/>) and its probabilities are the windows' mean, weighted by their share of the record.
/// </summary>
public static class RnaTypePredictor
{
    /// <summary>
    /// The type probabilities [types] of every sequence, in input order (evaluation mode, no gradients; results do not
    /// depend on <paramref name="batchSize"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The tokenizer has no RNA type tokens.</exception>
    public static float[][] Probabilities(IRnaMaskedLM model, RnaTokenizer tokenizer, IModelConfig config, IReadOnlyList<string> sequences,
        ChunkOptions? chunking = null, int batchSize = 32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(sequences);
        var types = tokenizer.Options.RnaTypes ?? throw new ArgumentException("The tokenizer has no RNA type tokens (tokenizer_config.json 'rna_types').", nameof(tokenizer));
        int maskId = tokenizer.Vocabulary.MaskId ?? throw new ArgumentException("The vocabulary has no <mask> token.", nameof(tokenizer));
        var placeholder = sequences.Select(_ => new StackChoice(new[] { 0 }, new[] { 1f })).ToList();
        var inputs = TaskInputs.Create(tokenizer, config, sequences, chunking ?? ChunkOptions.Default, placeholder);
        var rows = inputs.TypePredictionRows(maskId).ToList();
        var probabilities = OfRows(model, tokenizer, rows.Select(r => r.Row).ToList(), batchSize, device);
        var result = sequences.Select(_ => new double[types.Count]).ToArray();
        for (int i = 0; i < rows.Count; i++)
        {
            for (int k = 0; k < types.Count; k++) result[rows[i].Record][k] += rows[i].Weight * probabilities[i][k];
        }
        return result.Select(p => p.Select(x => (float)x).ToArray()).ToArray();
    }

    /// <summary>
    /// Type probabilities of encoded rows that each hold <c>&lt;indicator&gt; &lt;mask&gt;</c> (the last occurrence is read).
    /// </summary>
    public static float[][] OfRows(IRnaMaskedLM model, RnaTokenizer tokenizer, IReadOnlyList<int[]> rows, int batchSize = 32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(rows);
        var typeIds = tokenizer.TypeIds ?? throw new ArgumentException("The tokenizer has no RNA type tokens.", nameof(tokenizer));
        int indicator = tokenizer.IndicatorId!.Value;
        int maskId = tokenizer.Vocabulary.MaskId ?? throw new ArgumentException("The vocabulary has no <mask> token.", nameof(tokenizer));
        var target = device ?? CPU;
        var result = new float[rows.Count][];
        var module = model.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            using var typeIndex = tensor(typeIds.Select(i => (long)i).ToArray(), int64, target);
            var order = Enumerable.Range(0, rows.Count).OrderBy(i => rows[i].Length).ThenBy(i => i).ToArray();
            foreach (var chunk in order.Chunk(Math.Max(1, batchSize)))
            {
                using var scope = NewDisposeScope();
                var positions = new long[chunk.Length];
                for (int b = 0; b < chunk.Length; b++)
                {
                    var row = rows[chunk[b]];
                    int position = -1;
                    for (int i = row.Length - 1; i > 0; i--)
                    {
                        if (row[i] == maskId && row[i - 1] == indicator) { position = i; break; }
                    }
                    if (position < 0) throw new ArgumentException($"Row {chunk[b]} has no <mask> after the RNA type indicator.", nameof(rows));
                    positions[b] = position;
                }
                var (ids, mask) = TaskInputs.Pad(chunk.Select(i => rows[i]).ToList(), tokenizer.Vocabulary.PadId ?? 0, target);
                var logits = model.Forward(ids, mask).Logits;                                    // [B, L, V]
                var atMask = logits.index(new TensorIndex[] { TensorIndex.Tensor(arange(chunk.Length, int64, target)), TensorIndex.Tensor(tensor(positions, int64, target)) }); // [B, V]
                var probabilities = atMask.index_select(1, typeIndex).softmax(-1).cpu().data<float>().ToArray();
                for (int b = 0; b < chunk.Length; b++) result[chunk[b]] = probabilities.AsSpan(b * typeIds.Count, typeIds.Count).ToArray();
            }
        }
        finally
        {
            if (wasTraining) module.train();
        }
        return result;
    }

    /// <summary>STACK's top-K types and weights of every sequence (see <see cref="StackChoice.TopK"/>).</summary>
    public static IReadOnlyList<StackChoice> Choose(IRnaMaskedLM model, RnaTokenizer tokenizer, IModelConfig config, IReadOnlyList<string> sequences, int topK,
        ChunkOptions? chunking = null, int batchSize = 32, Device? device = null) =>
        Probabilities(model, tokenizer, config, sequences, chunking, batchSize, device).Select(p => StackChoice.TopK(p, topK)).ToList();
}
