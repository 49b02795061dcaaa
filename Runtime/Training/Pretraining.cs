using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>Held-out masked-language-model metrics.</summary>
/// <param name="Loss">Mean cross-entropy (over the whole vocabulary) at the masked positions.</param>
/// <param name="Accuracy">Fraction of masked positions whose arg-max over the whole vocabulary is the original token.</param>
/// <param name="BaselineAccuracy">Fraction of masked positions holding the most frequent original token among them
/// (always predicting the most frequent nucleotide of the input).</param>
/// <param name="MaskedTokens">Number of masked positions.</param>
/// <param name="Records">Number of records evaluated.</param>
/// <param name="BaselineToken">The most frequent original token at the masked positions.</param>
public sealed record MlmMetrics(double Loss, double Accuracy, double BaselineAccuracy, long MaskedTokens, int Records, string BaselineToken)
{
    public Evaluation ToEvaluation(long step) => new(step, new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["loss"] = Loss,
        ["accuracy"] = Accuracy,
        ["baseline_accuracy"] = BaselineAccuracy,
        ["tokens"] = MaskedTokens,
    });
}

/// <summary>
/// Masked-token accuracy and loss on fixed masks: each record i gets its own masking generator
/// <see cref="TrainingRandom.For"/>(seed, Evaluation, i), selects nucleotides at the masking rate (base level) and
/// replaces every selected token by <c>&lt;mask&gt;</c> (no random or unchanged tokens, which would make the task easier).
/// The result does not depend on the batch size. Records longer than the model are cut to their first
/// <c>maxTokens</c> tokens.
/// </summary>
public static class MlmEvaluator
{
    public static MlmMetrics Evaluate(IRnaMaskedLM model, RnaTokenizer tokenizer, IReadOnlyList<string> sequences, long seed,
        int batchSize = 32, int? maxTokens = null, double probability = 0.15, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(sequences);
        var masker = new MlmMasker(tokenizer, new MaskingOptions { Probability = probability, MaskTokenFraction = 1, RandomTokenFraction = 0 });
        int? limit = maxTokens ?? tokenizer.Options.ModelMaxLength;
        var encodeOptions = new EncodeOptions { MaxLength = limit, Truncation = limit is not null };
        var rows = new List<(int[] Ids, long[] Labels)>(sequences.Count);
        for (int i = 0; i < sequences.Count; i++)
        {
            var encoded = tokenizer.Encode(sequences[i], options: encodeOptions);
            var masked = masker.Mask(new[] { encoded.InputIds }, new[] { encoded.AttentionMask }, MaskLevel.Base,
                TrainingRandom.For(seed, TrainingRandom.Streams.Evaluation, i));
            rows.Add((masked.InputIds[0], masked.Labels[0]));
        }

        var counts = new long[tokenizer.Vocabulary.Count];
        foreach (var (_, labels) in rows) foreach (long l in labels) if (l >= 0) counts[l]++;
        long total = counts.Sum();
        int baselineToken = Array.IndexOf(counts, counts.Max());

        double lossSum = 0;
        long correct = 0;
        var module = model.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            var order = Enumerable.Range(0, rows.Count).Where(i => rows[i].Labels.Any(l => l >= 0)).OrderBy(i => rows[i].Ids.Length).ToArray();
            foreach (var chunk in order.Chunk(Math.Max(1, batchSize)))
            {
                using var scope = NewDisposeScope();
                var (ids, mask, labels) = Pad(chunk.Select(i => rows[i]).ToList(), tokenizer.Vocabulary.PadId ?? 0, device);
                var logits = model.Forward(ids, mask).Logits; // [B, L, V]
                long v = logits.shape[2];
                var flatLogits = logits.reshape(-1, v);
                var flatLabels = labels.reshape(-1);
                lossSum += nn.functional.cross_entropy(flatLogits, flatLabels, ignore_index: MlmMasker.IgnoreIndex, reduction: nn.Reduction.Sum).item<float>();
                var selected = flatLabels.ne(MlmMasker.IgnoreIndex);
                correct += flatLogits.argmax(1).eq(flatLabels).logical_and(selected).sum().item<long>();
            }
        }
        finally
        {
            if (wasTraining) module.train();
        }
        return new MlmMetrics(
            total == 0 ? double.NaN : lossSum / total,
            total == 0 ? double.NaN : (double)correct / total,
            total == 0 ? double.NaN : (double)counts[baselineToken] / total,
            total, sequences.Count, tokenizer.Vocabulary[baselineToken]);
    }

    internal static (Tensor Ids, Tensor Mask, Tensor Labels) Pad(IReadOnlyList<(int[] Ids, long[] Labels)> rows, int padId, Device? device)
    {
        int length = rows.Max(r => r.Ids.Length);
        int batch = rows.Count;
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        var labels = new long[batch * length];
        Array.Fill(ids, padId);
        Array.Fill(labels, MlmMasker.IgnoreIndex);
        for (int b = 0; b < batch; b++)
        {
            var (rowIds, rowLabels) = rows[b];
            for (int i = 0; i < rowIds.Length; i++)
            {
                ids[b * length + i] = rowIds[i];
                mask[b * length + i] = 1;
                labels[b * length + i] = rowLabels[i];
            }
        }
        long[] shape = { batch, length };
        var target = device ?? CPU;
        return (tensor(ids, shape, int64, target), tensor(mask, shape, int64, target), tensor(labels, shape, int64, target));
    }
}

/// <summary>Masked-language-model pretraining of an <see cref="IRnaMaskedLM"/> on sequences.</summary>
public sealed class MlmTrainingTask : ITrainingTask
{
    private readonly IRnaMaskedLM _model;
    private readonly IModelFamily _family;
    private readonly IModelConfig _config;
    private readonly RnaTokenizer _tokenizer;
    private readonly IReadOnlyList<string> _train;
    private readonly IReadOnlyList<string> _heldOut;
    private readonly MlmMasker _masker;
    private readonly MaskingScheme _scheme;
    private readonly int _maxNucleotides;
    private readonly long _evalSeed;
    private readonly Device _device;
    private readonly int[] _lengths;

    private sealed record Batch(MaskedBatch Masked) : IMicroBatch
    {
        public long Targets => Masked.SelectedTokens;

        public long Tokens => Masked.RealTokens;
    }

    /// <param name="model">The model to train (its parameters are updated in place).</param>
    /// <param name="family">Its family (checkpoint naming, config).</param>
    /// <param name="config">Its configuration (written to config.json).</param>
    /// <param name="tokenizer">The tokenizer (written to vocab.txt and tokenizer_config.json).</param>
    /// <param name="train">Training sequences.</param>
    /// <param name="heldOut">Held-out sequences for evaluation (may be empty).</param>
    /// <param name="masker">The masking rules.</param>
    /// <param name="scheme">BERT (base level only) or RNAErnie (three levels, 1:1:1 per batch).</param>
    /// <param name="evalSeed">Seed of the fixed evaluation masks.</param>
    /// <param name="device">Where the model lives.</param>
    /// <param name="trainTypes">The RNA type (index into the tokenizer's <see cref="TokenizerOptions.RnaTypes"/>) of every
    /// training sequence, or null entries (and null) for none: a typed sequence is followed by the indicator and type
    /// tokens, and the type token is masked with probability <see cref="TypeMaskProbability"/>.</param>
    /// <param name="heldOutTypes">The same for the held-out sequences (type accuracy in evaluations).</param>
    public MlmTrainingTask(IRnaMaskedLM model, IModelFamily family, IModelConfig config, RnaTokenizer tokenizer,
        IReadOnlyList<string> train, IReadOnlyList<string> heldOut, MlmMasker masker, MaskingScheme scheme, long evalSeed, Device? device = null,
        IReadOnlyList<int?>? trainTypes = null, IReadOnlyList<int?>? heldOutTypes = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _family = family ?? throw new ArgumentNullException(nameof(family));
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _train = train ?? throw new ArgumentNullException(nameof(train));
        _heldOut = heldOut ?? throw new ArgumentNullException(nameof(heldOut));
        _masker = masker ?? throw new ArgumentNullException(nameof(masker));
        _scheme = scheme;
        _evalSeed = evalSeed;
        _device = device ?? CPU;
        if (scheme == MaskingScheme.Ernie && masker.Motifs is null) throw new ArgumentException("RNAErnie masking needs motifs (motif level).", nameof(masker));
        int maxTokens = Math.Min(config.MaxPositionEmbeddings, tokenizer.Options.ModelMaxLength ?? int.MaxValue);
        int specials = (tokenizer.Options.AddBos ? 1 : 0) + (tokenizer.Options.AddEos ? 1 : 0);
        _maxNucleotides = maxTokens - specials + tokenizer.Options.Nmers - 1;
        if (_maxNucleotides < tokenizer.Options.Nmers) throw new ArgumentException($"max_position_embeddings {config.MaxPositionEmbeddings} leaves no room for a sequence.");
        if (_train.Count == 0) throw new ArgumentException("There are no training sequences.", nameof(train));
        _trainTypes = CheckTypes(trainTypes, train.Count, nameof(trainTypes));
        _heldOutTypes = CheckTypes(heldOutTypes, heldOut.Count, nameof(heldOutTypes));
        if (_trainTypes.Any(t => t is not null) && _maxNucleotides < tokenizer.Options.Nmers + 2)
        {
            throw new ArgumentException($"max_position_embeddings {config.MaxPositionEmbeddings} leaves no room for a sequence and its two type tokens.");
        }
        _lengths = train.Select((s, i) => _trainTypes[i] is null ? Math.Min(s.Length, _maxNucleotides) + specials : Math.Min(s.Length, _maxNucleotides - 2) + specials + 2).ToArray();
    }

    private readonly int?[] _trainTypes;
    private readonly int?[] _heldOutTypes;

    private int?[] CheckTypes(IReadOnlyList<int?>? types, int count, string name)
    {
        if (types is null) return new int?[count];
        if (types.Count != count) throw new ArgumentException($"{types.Count} types for {count} sequences.", name);
        if (types.Any(t => t is not null))
        {
            var tokens = _tokenizer.Options.RnaTypes ?? throw new ArgumentException("The sequences carry RNA types, but the tokenizer has no RNA type tokens.", name);
            if (types.FirstOrDefault(t => t is int k && (k < 0 || k >= tokens.Count)) is int bad) throw new ArgumentException($"Type index {bad} is outside the tokenizer's {tokens.Count} types.", name);
        }
        return types.ToArray();
    }

    /// <summary>Per typed training sequence, the probability that its type token is masked and predicted (default 0.5).</summary>
    public double TypeMaskProbability { get; init; } = 0.5;

    public string Kind => "mlm";

    /// <summary>Fraction of nucleotides masked in held-out evaluation (0.15, whatever the training rate), so evaluations of runs with different training rates compare.</summary>
    public double EvaluationMaskProbability { get; init; } = 0.15;

    public nn.Module Module => _model.Module;

    public IReadOnlyList<int> TrainingLengths => _lengths;

    /// <summary>Longest sequence (in nucleotides) that fits the model; longer training sequences are cropped at a random offset.</summary>
    public int MaxNucleotides => _maxNucleotides;

    public IMicroBatch Prepare(int[] records, TrainingRandom random)
    {
        var texts = new string[records.Length];
        bool typed = false;
        for (int i = 0; i < records.Length; i++)
        {
            string s = _train[records[i]];
            int? type = _trainTypes[records[i]];
            int room = type is null ? _maxNucleotides : _maxNucleotides - 2;
            if (s.Length > room)
            {
                int start = random.Next(s.Length - room + 1);
                s = s.Substring(start, room);
            }
            texts[i] = type is int k ? RnaTypeLabels.Typed(s, _tokenizer.Options.RnaTypes!, k) : s;
            typed |= type is not null;
        }
        var level = _masker.ChooseLevel(_scheme, random);
        var masked = _masker.Mask(texts, level, random);
        return new Batch(typed ? _masker.MaskTypes(masked, TypeMaskProbability, random) : masked);
    }

    public Tensor Loss(IMicroBatch batch, double normalizer)
    {
        var masked = ((Batch)batch).Masked;
        using var scope = NewDisposeScope();
        var (ids, mask, labels) = masked.ToTensors(_device);
        var logits = _model.Forward(ids, mask).Logits;
        var loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), labels.reshape(-1),
            ignore_index: MlmMasker.IgnoreIndex, reduction: nn.Reduction.Sum) / normalizer;
        return loss.MoveToOuterDisposeScope();
    }

    public Evaluation? Evaluate(long step)
    {
        if (_heldOut.Count == 0) return null;
        var metrics = MlmEvaluator.Evaluate(_model, _tokenizer, _heldOut, _evalSeed, 32, null, EvaluationMaskProbability, _device);
        var evaluation = metrics.ToEvaluation(step);
        var typedRecords = Enumerable.Range(0, _heldOut.Count).Where(i => _heldOutTypes[i] is not null).ToList();
        if (typedRecords.Count == 0) return evaluation;
        var sequences = typedRecords.Select(i => _heldOut[i]).ToList();
        var probabilities = RnaTypePredictor.Probabilities(_model, _tokenizer, _config, sequences, new ChunkOptions(LongRecordPolicy.Truncate), 32, _device);
        int correct = 0;
        var counts = new int[_tokenizer.Options.RnaTypes!.Count];
        for (int j = 0; j < typedRecords.Count; j++)
        {
            int truth = _heldOutTypes[typedRecords[j]]!.Value;
            counts[truth]++;
            if (ArgMax(probabilities[j]) == truth) correct++;
        }
        var values = new Dictionary<string, double>(evaluation.Metrics, StringComparer.Ordinal)
        {
            ["type_accuracy"] = (double)correct / typedRecords.Count,
            ["type_baseline_accuracy"] = (double)counts.Max() / typedRecords.Count,
            ["type_records"] = typedRecords.Count,
        };
        return new Evaluation(step, values);
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["masking"] = _scheme.ToString().ToLowerInvariant(),
        ["mask_probability"] = FormattableString.Invariant($"{_masker.Options.Probability}"),
        ["mask_token_fraction"] = FormattableString.Invariant($"{_masker.Options.MaskTokenFraction}"),
        ["random_token_fraction"] = FormattableString.Invariant($"{_masker.Options.RandomTokenFraction}"),
        ["span_nucleotides"] = FormattableString.Invariant($"{_masker.Options.SpanMin}-{_masker.Options.SpanMax}"),
        ["motifs"] = FormattableString.Invariant($"{_masker.Motifs?.Count ?? 0}"),
        ["evaluation_mask_probability"] = FormattableString.Invariant($"{EvaluationMaskProbability}"),
        ["max_nucleotides"] = FormattableString.Invariant($"{_maxNucleotides}"),
        ["held_out_records"] = FormattableString.Invariant($"{_heldOut.Count}"),
        ["typed_training_records"] = FormattableString.Invariant($"{_trainTypes.Count(t => t is not null)}"),
        ["type_mask_probability"] = FormattableString.Invariant($"{TypeMaskProbability}"),
    };

    public void SaveModel(string directory) =>
        CheckpointWriter.SaveModelFiles(directory, _config, _tokenizer, _model.Module, _family.Naming);

    public void LoadModel(string directory) =>
        Checkpoint.LoadWeights(_model.Module, _family.Naming, new[] { Path.Combine(directory, Checkpoint.WeightsFile) });
}
