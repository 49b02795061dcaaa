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
/// logits at the masked position over the type tokens only.
/// </summary>
public static class RnaTypePredictor
{
    /// <summary>
    /// The type probabilities [types] of every sequence, in input order (evaluation mode, no gradients; results do not
    /// depend on <paramref name="batchSize"/>). Each sequence must leave room for the two type tokens: at most
    /// <see cref="FineTuning.MaxNucleotides"/> − 2 nucleotides.
    /// </summary>
    /// <exception cref="ArgumentException">The tokenizer has no RNA type tokens.</exception>
    public static float[][] Probabilities(IRnaMaskedLM model, RnaTokenizer tokenizer, IReadOnlyList<string> sequences, int batchSize = 32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(sequences);
        var types = tokenizer.Options.RnaTypes ?? throw new ArgumentException("The tokenizer has no RNA type tokens (tokenizer_config.json 'rna_types').", nameof(tokenizer));
        var typeIds = tokenizer.TypeIds!;
        int maskId = tokenizer.Vocabulary.MaskId ?? throw new ArgumentException("The vocabulary has no <mask> token.", nameof(tokenizer));
        var target = device ?? CPU;
        var result = new float[sequences.Count][];
        var module = model.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            using var typeIndex = tensor(typeIds.Select(i => (long)i).ToArray(), int64, target);
            var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Length).ThenBy(i => i).ToArray();
            foreach (var chunk in order.Chunk(Math.Max(1, batchSize)))
            {
                using var scope = NewDisposeScope();
                var texts = chunk.Select(i => RnaTypeLabels.Typed(sequences[i], types, null)).ToList();
                var encoding = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.Longest });
                var positions = new long[chunk.Length];
                for (int b = 0; b < chunk.Length; b++)
                {
                    int position = MlmMasker.TypePosition(encoding.InputIds[b], tokenizer.IndicatorId!.Value, new[] { maskId });
                    if (position < 0) throw new InvalidOperationException($"Sequence {chunk[b]} has no masked type position after encoding.");
                    positions[b] = position;
                }
                var (ids, mask) = FineTuning.ToTensors(encoding.InputIds, encoding.AttentionMask, target);
                var logits = model.Forward(ids, mask).Logits;                                    // [B, L, V]
                var rows = arange(chunk.Length, int64, target);
                var atMask = logits.index(new TensorIndex[] { TensorIndex.Tensor(rows), TensorIndex.Tensor(tensor(positions, int64, target)) }); // [B, V]
                var probabilities = atMask.index_select(1, typeIndex).softmax(-1).cpu().data<float>().ToArray();
                for (int b = 0; b < chunk.Length; b++) result[chunk[b]] = probabilities.AsSpan(b * types.Count, types.Count).ToArray();
            }
        }
        finally
        {
            if (wasTraining) module.train();
        }
        return result;
    }
}
