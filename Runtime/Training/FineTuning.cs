using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>Which parameters fine-tuning updates (RNAErnie's two strategies).</summary>
public enum FineTuningMode
{
    /// <summary>Frozen backbone, trainable head: every parameter loaded from the pretrained checkpoint is frozen; the
    /// task head (and a pooler the checkpoint does not hold) trains.</summary>
    Fbth,
    /// <summary>Trainable backbone, trainable head: everything trains.</summary>
    Tbth,
}

/// <summary>One labelled example of a fine-tuning task.</summary>
/// <param name="Name">Record name.</param>
/// <param name="Sequence">The nucleotides.</param>
/// <param name="Label">Sequence task: the class index; otherwise unused (−1).</param>
/// <param name="Pairs">Token and contact tasks: the partner of each nucleotide (−1 = unpaired).</param>
public sealed record LabelledSequence(string Name, string Sequence, int Label, int[]? Pairs);

/// <summary>Turning records into labelled examples.</summary>
public static class TaskData
{
    /// <summary>
    /// Sequence classification: the class of a record is its <see cref="SequenceRecord.Label"/> (the last word of the
    /// FASTA header, e.g. nRC's "5S_rRNA"). <paramref name="labels"/> fixes the class order; null takes the sorted
    /// (ordinal) set of the records' classes.
    /// </summary>
    /// <exception cref="FormatException">A record has no class, or one outside <paramref name="labels"/>.</exception>
    public static (List<LabelledSequence> Examples, IReadOnlyList<string> Labels) ForSequenceClassification(
        IReadOnlyList<SequenceRecord> records, IReadOnlyList<string>? labels = null)
    {
        foreach (var r in records)
        {
            if (string.IsNullOrEmpty(r.Label)) throw new FormatException($"{r.Source}: record '{r.Name}' has no class (the last word of its header).");
        }
        labels ??= records.Select(r => r.Label!).Distinct(StringComparer.Ordinal).OrderBy(l => l, StringComparer.Ordinal).ToList();
        var index = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        var examples = records.Select(r => index.TryGetValue(r.Label!, out int i)
            ? new LabelledSequence(r.Name, r.Sequence, i, null)
            : throw new FormatException($"{r.Source}: record '{r.Name}' has class '{r.Label}', which the model does not know ({string.Join(", ", labels)}).")).ToList();
        return (examples, labels);
    }

    /// <summary>Token and contact tasks: base pairs from each record's dot-bracket structure.</summary>
    /// <exception cref="FormatException">A record has no structure, or an unbalanced one.</exception>
    public static List<LabelledSequence> ForStructure(IReadOnlyList<SequenceRecord> records) =>
        records.Select(r => r.Structure is null
            ? throw new FormatException($"{r.Source}: record '{r.Name}' has no structure; token and contact tasks need dot-bracket (.dbn) files.")
            : new LabelledSequence(r.Name, r.Sequence, -1, PairsOf(r.Structure, r.Source, r.Name))).ToList();

    /// <summary>
    /// The partner of every position of a dot-bracket string: <c>()</c>, <c>[]</c>, <c>{}</c>, <c>&lt;&gt;</c> and
    /// letter pairs (A–a, …) pair up; any other character is unpaired.
    /// </summary>
    public static int[] PairsOf(string structure, string source = "structure", string name = "")
    {
        var pairs = Enumerable.Repeat(-1, structure.Length).ToArray();
        var stacks = new Dictionary<char, Stack<int>>();
        for (int i = 0; i < structure.Length; i++)
        {
            char c = structure[i];
            char? open = c switch
            {
                '(' or '[' or '{' or '<' => c,
                >= 'A' and <= 'Z' => c,
                _ => null,
            };
            char? close = c switch
            {
                ')' => '(',
                ']' => '[',
                '}' => '{',
                '>' => '<',
                >= 'a' and <= 'z' => char.ToUpperInvariant(c),
                _ => null,
            };
            if (open is char o)
            {
                if (!stacks.TryGetValue(o, out var stack)) stacks[o] = stack = new Stack<int>();
                stack.Push(i);
            }
            else if (close is char k)
            {
                if (!stacks.TryGetValue(k, out var stack) || stack.Count == 0)
                {
                    throw new FormatException($"{source}: record '{name}': '{c}' at position {i + 1} closes no open bracket.");
                }
                int j = stack.Pop();
                pairs[i] = j;
                pairs[j] = i;
            }
        }
        foreach (var (bracket, stack) in stacks)
        {
            if (stack.Count > 0) throw new FormatException($"{source}: record '{name}': '{bracket}' at position {stack.Peek() + 1} is never closed.");
        }
        return pairs;
    }
}

/// <summary>
/// STACK (RNAErnie's type-guided fine-tuning): a frozen masked-language model that predicts each record's coarse RNA
/// type from <c>sequence &lt;indicator&gt; &lt;mask&gt;</c>, and the number K of most probable types whose inputs the
/// downstream model runs on (one row per type, shared parameters); its output is the σ-weighted sum of the K outputs.
/// </summary>
/// <param name="Predictor">The type predictor (kept in evaluation mode, never trained).</param>
/// <param name="PredictorConfig">Its configuration (written with it).</param>
/// <param name="TopK">K.</param>
public sealed record StackSettings(IRnaMaskedLM Predictor, IModelConfig PredictorConfig, int TopK);

/// <summary>
/// Fine-tuning of a prediction model (backbone + sequence, token or contact head) on labelled sequences:
/// sequence classification (cross-entropy over the classes; accuracy, macro-F1, MCC), token classification of
/// paired/unpaired nucleotides (cross-entropy over 2 labels per nucleotide; the same metrics over nucleotides) and
/// contact prediction (one logit per nucleotide pair, binary cross-entropy over the pairs i &lt; j; precision, recall,
/// F1 and MCC of the pairs at a probability threshold (0.5 unless given), and the structure metrics of <see cref="StructureMetrics"/>). Records
/// longer than the model are split into windows or truncated (<see cref="ChunkOptions"/>); with
/// <see cref="StackSettings"/> every input runs once per predicted type and the outputs are soft-voted
/// (<see cref="TaskInputs"/>). Token and contact tasks need a 1-mer tokenizer.
/// </summary>
public sealed class FineTuningTask : ITrainingTask
{
    private readonly IRnaPredictionModel _model;
    private readonly IModelFamily _family;
    private readonly IModelConfig _config;
    private readonly RnaTokenizer _tokenizer;
    private readonly IReadOnlyList<LabelledSequence> _train;
    private readonly IReadOnlyList<LabelledSequence> _eval;
    private readonly int _numLabels;
    private readonly Device _device;
    private readonly int[] _lengths;
    private readonly ChunkOptions _chunking;
    private readonly StackSettings? _stack;
    private readonly double _positiveWeight;
    private readonly double _threshold;
    private readonly Dictionary<LabelledSequence, StackChoice> _choices = new(ReferenceEqualityComparer.Instance);

    private sealed record Batch(LabelledSequence[] Examples, int[] Lengths, TaskInputs Inputs, long Targets, long Tokens) : IMicroBatch;

    /// <param name="model">The prediction model (see <see cref="FineTuning.CreateModel"/>).</param>
    /// <param name="family">Its family.</param>
    /// <param name="config">Its configuration, with the labels (see <see cref="FineTuning.TaskConfig"/>).</param>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="train">Training examples.</param>
    /// <param name="eval">Evaluation examples (may be empty).</param>
    /// <param name="numLabels">Outputs of the head (classes; 2 for token; 1 for contact).</param>
    /// <param name="device">Where the model lives.</param>
    /// <param name="chunking">Long records: windows (default) or truncation.</param>
    /// <param name="stack">STACK's type predictor and K, or null.</param>
    /// <param name="positiveWeight">Token and contact tasks: the weight of a paired target in the loss (unpaired targets
    /// weigh 1). Base pairs are about 0.3% of the pairs i &lt; j, so an unweighted contact loss first learns to predict no
    /// pair at all; structure predictors weigh the positive class by tens to hundreds.</param>
    /// <param name="threshold">Token and contact tasks: the probability at which the metrics count a nucleotide or a
    /// pair as paired.</param>
    public FineTuningTask(IRnaPredictionModel model, IModelFamily family, IModelConfig config, RnaTokenizer tokenizer,
        IReadOnlyList<LabelledSequence> train, IReadOnlyList<LabelledSequence> eval, int numLabels, Device? device = null,
        ChunkOptions? chunking = null, StackSettings? stack = null, double positiveWeight = 1, double threshold = 0.5)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _family = family ?? throw new ArgumentNullException(nameof(family));
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _train = train ?? throw new ArgumentNullException(nameof(train));
        _eval = eval ?? throw new ArgumentNullException(nameof(eval));
        _numLabels = numLabels;
        _device = device ?? CPU;
        _chunking = chunking ?? ChunkOptions.Default;
        _stack = stack;
        if (!(positiveWeight > 0) || double.IsInfinity(positiveWeight)) throw new ArgumentOutOfRangeException(nameof(positiveWeight), positiveWeight, "The weight of paired targets must be a positive number.");
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The pairing threshold must be in (0, 1].");
        if (positiveWeight != 1 && model.Task == PredictionTask.Sequence) throw new ArgumentException("A weight of paired targets applies to token and contact tasks.", nameof(positiveWeight));
        _positiveWeight = positiveWeight;
        _threshold = threshold;
        if (train.Count == 0) throw new ArgumentException("There are no training examples.", nameof(train));
        FineTuning.CheckTokenizer(model.Task, tokenizer);
        if (stack is not null)
        {
            var types = tokenizer.Options.RnaTypes ?? throw new ArgumentException("STACK needs a tokenizer with RNA type tokens (tokenizer_config.json 'rna_types').", nameof(stack));
            if (stack.TopK < 1 || stack.TopK > types.Count) throw new ArgumentException($"--top-k {stack.TopK} must be 1 to the {types.Count} RNA types.", nameof(stack));
        }
        _lengths = train.Select(e => RowTokens(e.Sequence)).ToArray();
    }

    /// <summary>Tokens the model reads for one record: its windows (times K for STACK), special tokens included.</summary>
    private int RowTokens(string sequence)
    {
        int specials = (_tokenizer.Options.AddBos ? 1 : 0) + (_tokenizer.Options.AddEos ? 1 : 0);
        int maxContent = TaskInputs.MaxContent(_tokenizer, _config, _stack is not null);
        int content = Math.Max(1, _tokenizer.Encode(sequence).InputIds.Length - specials);
        int rows = _stack?.TopK ?? 1;
        if (content <= maxContent || _chunking.Policy == LongRecordPolicy.Truncate)
        {
            return rows * (Math.Min(content, maxContent) + specials + (_stack is null ? 0 : 2));
        }
        int windows = Inference.Chunking.Plan(content, maxContent, ChunkOptions.WindowOverlap(_chunking.Overlap, maxContent)).Count;
        return rows * windows * (maxContent + specials + 2 * (_stack is null ? 0 : 1));
    }

    public string Kind => _model.Task.ToString().ToLowerInvariant();

    public nn.Module Module => _model.Module;

    public IReadOnlyList<int> TrainingLengths => _lengths;

    /// <summary>The chunking of long records.</summary>
    public ChunkOptions Chunking => _chunking;

    public IMicroBatch Prepare(int[] records, TrainingRandom random) => Build(records.Select(i => _train[i]).ToArray());

    /// <summary>STACK choices of the examples, predicted once per example and remembered.</summary>
    private IReadOnlyList<StackChoice>? Choices(LabelledSequence[] examples)
    {
        if (_stack is null) return null;
        var missing = examples.Where(e => !_choices.ContainsKey(e)).Distinct(ReferenceEqualityComparer.Instance).Cast<LabelledSequence>().ToList();
        if (missing.Count > 0)
        {
            var chosen = RnaTypePredictor.Choose(_stack.Predictor, _tokenizer, _config, missing.Select(e => e.Sequence).ToList(), _stack.TopK, _chunking, 32, _device);
            for (int i = 0; i < missing.Count; i++) _choices[missing[i]] = chosen[i];
        }
        return examples.Select(e => _choices[e]).ToList();
    }

    private Batch Build(LabelledSequence[] examples)
    {
        var inputs = TaskInputs.Create(_tokenizer, _config, examples.Select(e => e.Sequence).ToList(), _chunking, Choices(examples));
        var lengths = inputs.Lengths.ToArray();
        long targets = _model.Task switch
        {
            PredictionTask.Sequence => examples.Length,
            PredictionTask.Token => lengths.Sum(),
            _ => lengths.Sum(n => (long)n * (n - 1) / 2),
        };
        return new Batch(examples, lengths, inputs, targets, inputs.Tokens);
    }

    /// <summary>Labels for the record outputs: [B] classes, [B, N] paired (1) / unpaired (0) / ignored (−100), or [B, N, N] pair targets with a weight mask.</summary>
    private (Tensor Labels, Tensor? Weights) Targets(Batch batch, long outputLength, Tensor? covered)
    {
        int b = batch.Examples.Length;
        switch (_model.Task)
        {
            case PredictionTask.Sequence:
                return (tensor(batch.Examples.Select(e => (long)e.Label).ToArray(), int64, _device), null);
            case PredictionTask.Token:
            {
                var labels = new long[b * outputLength];
                Array.Fill(labels, MlmMasker.IgnoreIndex);
                for (int i = 0; i < b; i++)
                {
                    var pairs = batch.Examples[i].Pairs!;
                    for (int j = 0; j < batch.Lengths[i]; j++) labels[i * outputLength + j] = pairs[j] >= 0 && pairs[j] < batch.Lengths[i] ? 1 : 0;
                }
                return (tensor(labels, new long[] { b, outputLength }, int64, _device), null);
            }
            default:
            {
                long n = outputLength;
                var targets = new float[b * n * n];
                var weights = new float[b * n * n];
                for (int i = 0; i < b; i++)
                {
                    var pairs = batch.Examples[i].Pairs!;
                    int length = batch.Lengths[i];
                    for (int x = 0; x < length; x++)
                    {
                        for (int y = x + 1; y < length; y++) weights[(i * n + x) * n + y] = 1;
                        int partner = pairs[x];
                        if (partner > x && partner < length) targets[(i * n + x) * n + partner] = 1;
                    }
                }
                long[] shape = { b, n, n };
                var weightTensor = tensor(weights, shape, float32, _device);
                if (covered is not null) weightTensor = weightTensor * covered.to_type(float32);
                return (tensor(targets, shape, float32, _device), weightTensor);
            }
        }
    }

    public Tensor Loss(IMicroBatch microBatch, double normalizer)
    {
        var batch = (Batch)microBatch;
        using var scope = NewDisposeScope();
        var logits = batch.Inputs.Logits(_model, _device, out var covered);
        return (LossSum(batch, logits, covered) / normalizer).MoveToOuterDisposeScope();
    }

    /// <summary>The summed loss of a batch over its targets.</summary>
    private Tensor LossSum(Batch batch, Tensor logits, Tensor? covered)
    {
        switch (_model.Task)
        {
            case PredictionTask.Sequence:
            {
                var (labels, _) = Targets(batch, 0, null);
                return nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum);
            }
            case PredictionTask.Token:
            {
                var (labels, _) = Targets(batch, logits.shape[1], null);
                // [2]: unpaired weighs 1, paired the positive weight
                using var classWeights = _positiveWeight == 1 ? null : tensor(new[] { 1f, (float)_positiveWeight }, float32, _device);
                return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), labels.reshape(-1), classWeights, ignore_index: MlmMasker.IgnoreIndex, reduction: nn.Reduction.Sum);
            }
            default:
            {
                var (targets, weights) = Targets(batch, logits.shape[1], covered);
                // [B, N, N]: the pairs i < j inside the records weigh 1, the true pairs among them the positive weight
                var weighted = _positiveWeight == 1 ? weights! : weights! * (targets * (float)(_positiveWeight - 1) + 1);
                return (nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None) * weighted).sum();
            }
        }
    }

    public Evaluation? Evaluate(long step) => _eval.Count == 0 ? null : EvaluateOn(_eval, step, 32);

    /// <summary>
    /// Groups of records for evaluation: sorted by length, at most <paramref name="batchSize"/> records and, for the
    /// quadratic contact head, about 2²¹ nucleotide pairs per group.
    /// </summary>
    private static IEnumerable<int[]> EvaluationGroups(IReadOnlyList<LabelledSequence> examples, int batchSize, bool pairs)
    {
        var order = Enumerable.Range(0, examples.Count).OrderBy(i => examples[i].Sequence.Length).ThenBy(i => i).ToArray();
        var group = new List<int>();
        long longest = 0;
        foreach (int i in order)
        {
            long length = examples[i].Sequence.Length;
            long next = Math.Max(longest, length);
            bool full = group.Count >= Math.Max(1, batchSize) || (pairs && group.Count > 0 && (group.Count + 1) * next * next > (1L << 21));
            if (full)
            {
                yield return group.ToArray();
                group.Clear();
                next = length;
            }
            group.Add(i);
            longest = next;
        }
        if (group.Count > 0) yield return group.ToArray();
    }

    /// <summary>Metrics of the model on <paramref name="examples"/> (evaluation mode, no gradients).</summary>
    public Evaluation EvaluateOn(IReadOnlyList<LabelledSequence> examples, long step, int batchSize)
    {
        var module = _model.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            int classes = _model.Task == PredictionTask.Sequence ? _numLabels : 2;
            var metrics = new ClassificationMetrics(classes);
            var structures = new StructureMetrics();
            double lossSum = 0;
            long targets = 0;
            foreach (var chunk in EvaluationGroups(examples, batchSize, _model.Task == PredictionTask.Contact))
            {
                using var scope = NewDisposeScope();
                var batch = Build(chunk.Select(i => examples[i]).ToArray());
                var logits = batch.Inputs.Logits(_model, _device, out var covered);
                lossSum += LossSum(batch, logits, covered).item<float>();
                targets += batch.Targets;
                Collect(batch, logits, covered, metrics, structures);
            }
            var values = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["loss"] = targets == 0 ? double.NaN : lossSum / targets,
                ["accuracy"] = metrics.Accuracy,
                ["macro_f1"] = metrics.MacroF1,
                ["mcc"] = metrics.Mcc,
            };
            if (_model.Task == PredictionTask.Contact)
            {
                values["precision"] = metrics.Precision(1);
                values["recall"] = metrics.Recall(1);
                values["f1"] = metrics.F1(1);
                foreach (var (name, value) in structures.Values()) values[name] = value;
            }
            values["examples"] = examples.Count;
            return new Evaluation(step, values);
        }
        finally
        {
            if (wasTraining) module.train();
        }
    }

    private void Collect(Batch batch, Tensor logits, Tensor? covered, ClassificationMetrics metrics, StructureMetrics structures)
    {
        switch (_model.Task)
        {
            case PredictionTask.Sequence:
            {
                long[] predicted = logits.argmax(1).cpu().data<long>().ToArray();
                for (int i = 0; i < predicted.Length; i++) metrics.Add(batch.Examples[i].Label, (int)predicted[i]);
                break;
            }
            case PredictionTask.Token:
            {
                long n = logits.shape[1];
                // [B, N]: the probability of "paired"
                float[] paired = logits.softmax(2).select(2, 1).cpu().data<float>().ToArray();
                for (int i = 0; i < batch.Examples.Length; i++)
                {
                    var pairs = batch.Examples[i].Pairs!;
                    for (int j = 0; j < batch.Lengths[i]; j++) metrics.Add(pairs[j] >= 0 && pairs[j] < batch.Lengths[i] ? 1 : 0, paired[i * n + j] >= _threshold ? 1 : 0);
                }
                break;
            }
            default:
            {
                int n = (int)logits.shape[1];
                var probabilities = TaskPredictor.PairProbabilities(logits, covered);
                float[] host = probabilities.cpu().data<float>().ToArray();
                for (int i = 0; i < batch.Examples.Length; i++)
                {
                    var pairs = batch.Examples[i].Pairs!;
                    int length = batch.Lengths[i];
                    var map = new float[length, length];
                    for (int x = 0; x < length; x++)
                    {
                        for (int y = 0; y < length; y++) map[x, y] = host[((long)i * n + x) * n + y];
                        for (int y = x + 1; y < length; y++) metrics.Add(pairs[x] == y ? 1 : 0, map[x, y] >= _threshold ? 1 : 0);
                    }
                    var truth = new List<(int, int)>();
                    for (int x = 0; x < length; x++) if (pairs[x] > x && pairs[x] < length) truth.Add((x, pairs[x]));
                    structures.Add(truth, Structure.DotBracket.SelectPairs(map, _threshold));
                }
                break;
            }
        }
    }

    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["task"] = Kind,
        ["outputs"] = FormattableString.Invariant($"{_numLabels}"),
        ["window_tokens"] = FormattableString.Invariant($"{TaskInputs.MaxContent(_tokenizer, _config, _stack is not null)}"),
        ["long_records"] = _chunking.Policy.ToString().ToLowerInvariant(),
        ["overlap"] = FormattableString.Invariant($"{_chunking.Overlap}"),
        ["stack_top_k"] = _stack is null ? "none" : FormattableString.Invariant($"{_stack.TopK}"),
        ["positive_weight"] = _positiveWeight.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["evaluation_records"] = FormattableString.Invariant($"{_eval.Count}"),
        ["trainable_parameters"] = FormattableString.Invariant($"{_model.Module.parameters().Where(p => p.requires_grad).Sum(p => p.numel())}"),
    };

    public void SaveModel(string directory)
    {
        File.WriteAllText(Path.Combine(directory, Checkpoint.ConfigFile), _config.ToJson());
        CheckpointWriter.SaveTokenizer(directory, _tokenizer);
        CheckpointWriter.SaveWeights(Path.Combine(directory, Checkpoint.WeightsFile), _model.Module, _family.Naming);
        if (_stack is not null)
        {
            string predictor = Path.Combine(directory, FineTuning.TypePredictorFolder);
            Directory.CreateDirectory(predictor);
            CheckpointWriter.SaveModelFiles(predictor, _stack.PredictorConfig, _tokenizer, _stack.Predictor.Module, _family.Naming);
        }
    }

    public void LoadModel(string directory) =>
        Checkpoint.LoadWeights(_model.Module, _family.Naming, new[] { Path.Combine(directory, Checkpoint.WeightsFile) });
}

/// <summary>
/// Base-pair metrics of predicted secondary structures, as structure-prediction papers report them: per sequence,
/// precision = TP / predicted pairs, recall = TP / true pairs, F1 = 2PR / (P + R), averaged over the sequences; and the
/// same computed once from the TP, predicted and true counts summed over all sequences ("overall"). A sequence with
/// neither true nor predicted pairs scores 1 (a correct empty structure); otherwise an empty denominator gives 0.
/// </summary>
public sealed class StructureMetrics
{
    private double _precision, _recall, _f1;
    private long _tp, _predicted, _true;

    /// <summary>Sequences added.</summary>
    public int Sequences { get; private set; }

    /// <summary>Adds one sequence's true and predicted pairs (i &lt; j).</summary>
    public void Add(IReadOnlyCollection<(int I, int J)> truth, IReadOnlyCollection<(int I, int J)> predicted)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predicted);
        var set = new HashSet<(int, int)>(truth);
        int tp = predicted.Count(p => set.Contains(p));
        double precision, recall, f1;
        if (truth.Count == 0 && predicted.Count == 0)
        {
            precision = recall = f1 = 1;
        }
        else
        {
            precision = predicted.Count == 0 ? 0 : (double)tp / predicted.Count;
            recall = truth.Count == 0 ? 0 : (double)tp / truth.Count;
            f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }
        _precision += precision;
        _recall += recall;
        _f1 += f1;
        _tp += tp;
        _predicted += predicted.Count;
        _true += truth.Count;
        Sequences++;
    }

    /// <summary>Mean per-sequence precision, recall and F1.</summary>
    public (double Precision, double Recall, double F1) PerSequence =>
        Sequences == 0 ? (double.NaN, double.NaN, double.NaN) : (_precision / Sequences, _recall / Sequences, _f1 / Sequences);

    /// <summary>Precision, recall and F1 from the summed counts.</summary>
    public (double Precision, double Recall, double F1) Overall
    {
        get
        {
            double p = _predicted == 0 ? 0 : (double)_tp / _predicted;
            double r = _true == 0 ? 0 : (double)_tp / _true;
            return (p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
        }
    }

    /// <summary>The metrics by name: structure_precision/recall/f1 (per-sequence means) and their _overall forms.</summary>
    public IEnumerable<(string Name, double Value)> Values()
    {
        var (p, r, f) = PerSequence;
        var (op, or, of) = Overall;
        yield return ("structure_precision", p);
        yield return ("structure_recall", r);
        yield return ("structure_f1", f);
        yield return ("structure_precision_overall", op);
        yield return ("structure_recall_overall", or);
        yield return ("structure_f1_overall", of);
    }
}

/// <summary>Building fine-tuning models from pretrained checkpoints, and reading fine-tuned ones back.</summary>
public static class FineTuning
{
    /// <summary>The config.json field naming the task of a fine-tuned model.</summary>
    public const string TaskField = "rnalm_task";

    /// <summary>The config.json field of a STACK model: <c>{"top_k": K}</c>.</summary>
    public const string StackField = "rnalm_stack";

    /// <summary>The sub-folder of a STACK model folder that holds its type predictor (a masked-LM model folder).</summary>
    public const string TypePredictorFolder = "type_predictor";

    /// <summary>The prefix of the head of each task (keys the pretrained checkpoint does not have).</summary>
    public static string HeadPrefix(PredictionTask task) => task switch
    {
        PredictionTask.Sequence => "sequence_head.",
        PredictionTask.Token => "token_head.",
        PredictionTask.Contact => "contact_head.",
        _ => throw new ArgumentOutOfRangeException(nameof(task)),
    };

    /// <summary>
    /// The most nucleotides one forward pass reads: the smaller of the position table and the tokenizer's limit, less the
    /// special tokens, plus the k−1 nucleotides a k-mer tokenizer folds into its last token. Longer sequences keep
    /// their first nucleotides.
    /// </summary>
    public static int MaxNucleotides(IModelConfig config, RnaTokenizer tokenizer)
    {
        int maxTokens = Math.Min(config.MaxPositionEmbeddings, tokenizer.Options.ModelMaxLength ?? int.MaxValue);
        int specials = (tokenizer.Options.AddBos ? 1 : 0) + (tokenizer.Options.AddEos ? 1 : 0);
        return maxTokens - specials + tokenizer.Options.Nmers - 1;
    }

    /// <summary>The first <paramref name="maxNucleotides"/> nucleotides of a sequence (see <see cref="MaxNucleotides"/>).</summary>
    public static string Clip(string sequence, int maxNucleotides) =>
        sequence.Length > maxNucleotides ? sequence[..maxNucleotides] : sequence;

    /// <summary>
    /// Token and contact heads label nucleotides and drop &lt;cls&gt;/&lt;eos&gt;: they need a 1-mer tokenizer that adds
    /// both. Sequence tasks take any tokenizer.
    /// </summary>
    /// <exception cref="ArgumentException">The tokenizer does not fit the task.</exception>
    public static void CheckTokenizer(PredictionTask task, RnaTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (task == PredictionTask.Sequence) return;
        if (tokenizer.Options.Nmers != 1)
        {
            throw new ArgumentException($"Token and contact tasks label nucleotides and need a 1-mer tokenizer (this one uses {tokenizer.Options.Nmers}-mers).");
        }
        if (!(tokenizer.Options.AddBos && tokenizer.Options.AddEos))
        {
            throw new ArgumentException("Token and contact tasks need a tokenizer that adds <cls> and <eos> (the heads remove them).");
        }
    }

    /// <summary>Padded id and attention-mask rows as <c>[B, L]</c> int64 tensors on <paramref name="device"/>.</summary>
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

    /// <summary>Outputs of the head: the classes for sequence tasks, 2 (unpaired/paired) for token, 1 logit for contact.</summary>
    public static int NumLabels(PredictionTask task, int classes) => task switch
    {
        PredictionTask.Sequence => classes,
        PredictionTask.Token => 2,
        _ => 1,
    };

    /// <summary>
    /// A config for the task: <paramref name="baseConfig"/> with <c>num_labels</c>, <c>id2label</c>/<c>label2id</c>,
    /// <c>rnalm_task</c> and <c>architectures</c> set (written to the fine-tuned model's config.json).
    /// </summary>
    public static IModelConfig TaskConfig(IModelFamily family, IModelConfig baseConfig, PredictionTask task, IReadOnlyList<string> labels, ConfigOverrides? overrides = null,
        int? stackTopK = null)
    {
        var config = overrides is null ? baseConfig : ModelSetup.WithOverrides(family, baseConfig, overrides);
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        json["num_labels"] = labels.Count;
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < labels.Count; i++)
        {
            id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = labels[i];
            label2id[labels[i]] = i;
        }
        json["id2label"] = id2label;
        json["label2id"] = label2id;
        json[TaskField] = task.ToString().ToLowerInvariant();
        if (stackTopK is int k) json[StackField] = new JsonObject { ["top_k"] = k };
        json["architectures"] = new JsonArray(JsonValue.Create($"{family.Name}For{task}Prediction"));
        return family.ReadConfig(json.ToJsonString(), "fine-tuning config");
    }

    /// <summary>The task and labels a fine-tuned config.json declares.</summary>
    /// <exception cref="FormatException">The config has no <c>rnalm_task</c> or labels.</exception>
    public static (PredictionTask Task, IReadOnlyList<string> Labels) ReadTask(string configJson, string source)
    {
        var json = JsonNode.Parse(configJson)?.AsObject() ?? throw new FormatException($"{source}: empty config.");
        string? taskName = json[TaskField]?.GetValue<string>();
        if (taskName == PairPredictor.TaskName)
        {
            throw new FormatException($"{source}: this is a pair model ('{TaskField}': \"pair\"); use --task pair.");
        }
        if (taskName is null || !Enum.TryParse<PredictionTask>(taskName, ignoreCase: true, out var task))
        {
            throw new FormatException($"{source}: no '{TaskField}' field (sequence, token or contact); it is not a model written by rnalm finetune.");
        }
        if (json["id2label"] is not JsonObject id2label) throw new FormatException($"{source}: no 'id2label' object.");
        var labels = new string[id2label.Count];
        foreach (var (key, value) in id2label)
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i) || i < 0 || i >= labels.Length || value is null)
            {
                throw new FormatException($"{source}: 'id2label' must map 0..{labels.Length - 1} to label names.");
            }
            labels[i] = value.GetValue<string>();
        }
        return (task, labels);
    }

    /// <summary>
    /// Builds the prediction model for <paramref name="task"/>. With <paramref name="checkpointWeights"/>, loads the
    /// pretrained backbone from it (the head, and a pooler the file lacks, stay as initialised; the file's
    /// <c>lm_head.*</c> is ignored) and returns the names of the loaded parameters; without, the whole model is freshly
    /// initialised (BERT initialisation from <paramref name="seed"/>) — the random baseline of the same shape.
    /// </summary>
    public static (IRnaPredictionModel Model, IReadOnlySet<string> Loaded) CreateModel(IModelFamily family, IModelConfig config,
        PredictionTask task, int numLabels, string? checkpointWeights, long seed)
    {
        var options = PretrainedLoadOptions(family, task);
        if (checkpointWeights is not null)
        {
            CheckPretrainedWeights(family, config, task, numLabels, checkpointWeights);
        }
        ModelSetup.Seed(seed);
        var model = family.CreatePredictionModel(config, task, numLabels);
        try
        {
            ModelSetup.InitializeWeights(model.Module);
            ModelSetup.ZeroPaddingRow(model.Module, config.PadTokenId);
            var loaded = new HashSet<string>(StringComparer.Ordinal);
            if (checkpointWeights is not null)
            {
                Checkpoint.LoadWeights(model.Module, family.Naming, new[] { checkpointWeights }, options);
                using var file = SafeTensorsFile.Open(checkpointWeights);
                var stored = file.Tensors.Select(t => family.Naming.Normalize(t.Name)).ToHashSet(StringComparer.Ordinal);
                foreach (var tied in family.Naming.Tied) if (stored.Contains(tied.Source)) stored.Add(tied.Key);
                foreach (var (name, _) in model.Module.named_parameters()) if (stored.Contains(name)) loaded.Add(name);
            }
            return (model, loaded);
        }
        catch
        {
            model.Module.Dispose();
            throw;
        }
    }

    /// <summary>What loading a pretrained checkpoint into a task model may leave out (the head, a pooler) or ignore (the MLM head).</summary>
    private static CheckpointLoadOptions PretrainedLoadOptions(IModelFamily family, PredictionTask task) => new()
    {
        AllowMissingPrefixes = new[] { HeadPrefix(task), family.Naming.Prefix + ".pooler." },
        AllowUnexpectedPrefixes = new[] { "lm_head." },
    };

    /// <summary>
    /// Checks a pretrained weight file against the task model <paramref name="config"/> describes before that model
    /// is allocated (see <see cref="Checkpoint.CheckWeights"/>).
    /// </summary>
    public static void CheckPretrainedWeights(IModelFamily family, IModelConfig config, PredictionTask task, int numLabels, string checkpointWeights)
    {
        ArgumentNullException.ThrowIfNull(family);
        Checkpoint.CheckWeights(config, ConfigBeside(checkpointWeights), family.Naming, new[] { checkpointWeights },
            () => family.CreatePredictionModel(config, task, numLabels).Module, PretrainedLoadOptions(family, task));
    }

    /// <summary>The config.json of the folder holding <paramref name="weightsFile"/> (for messages).</summary>
    private static string ConfigBeside(string weightsFile) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightsFile)) ?? ".", Checkpoint.ConfigFile);

    /// <summary>Applies a mode: FBTH freezes the <paramref name="loaded"/> parameters, TBTH trains everything. Returns the trainable parameter count.</summary>
    public static long ApplyMode(IRnaPredictionModel model, FineTuningMode mode, IReadOnlySet<string> loaded)
    {
        long trainable = 0;
        foreach (var (name, parameter) in model.Module.named_parameters())
        {
            bool train = mode == FineTuningMode.Tbth || !loaded.Contains(name);
            parameter.requires_grad = train;
            if (train) trainable += parameter.numel();
        }
        if (trainable == 0) throw new InvalidOperationException("No parameter is left to train.");
        return trainable;
    }

    /// <summary>A fine-tuned model folder loaded for evaluation; <see cref="Stack"/> holds a STACK model's type predictor.</summary>
    public sealed record FineTunedModel(IModelFamily Family, IModelConfig Config, RnaTokenizer Tokenizer, IRnaPredictionModel Model, PredictionTask Task, IReadOnlyList<string> Labels) : IDisposable
    {
        public StackSettings? Stack { get; init; }

        public void Dispose()
        {
            Model.Module.Dispose();
            Stack?.Predictor.Module.Dispose();
        }
    }

    /// <summary>K of a STACK model's config.json (<c>rnalm_stack.top_k</c>), or null for another model.</summary>
    /// <exception cref="FormatException">The field is malformed.</exception>
    public static int? ReadStackTopK(string configJson, string source)
    {
        var json = JsonNode.Parse(configJson)?.AsObject() ?? throw new FormatException($"{source}: empty config.");
        if (json[StackField] is not { } node) return null;
        if (node is not JsonObject o || o["top_k"] is not JsonValue value || !value.TryGetValue<int>(out int k) || k < 1)
        {
            throw new FormatException($"{source}: '{StackField}' must be an object with a positive 'top_k'.");
        }
        return k;
    }

    /// <summary>Loads a folder written by <c>rnalm finetune</c> strictly (config.json with <c>rnalm_task</c>).</summary>
    public static FineTunedModel Load(string directory, ModelRegistry registry, Device? device = null)
    {
        var (family, config) = Checkpoint.ReadConfig(directory, registry);
        string configPath = Path.Combine(directory, Checkpoint.ConfigFile);
        var (task, labels) = ReadTask(File.ReadAllText(configPath), configPath);
        var tokenizer = Checkpoint.ReadTokenizer(directory, config);
        string[] weights = { Path.Combine(directory, Checkpoint.WeightsFile) };
        int numLabels = NumLabels(task, labels.Count);
        Checkpoint.CheckWeights(config, configPath, family.Naming, weights, () => family.CreatePredictionModel(config, task, numLabels).Module);
        var model = family.CreatePredictionModel(config, task, numLabels);
        try
        {
            Checkpoint.LoadWeights(model.Module, family.Naming, weights);
            if (device is not null) model.Module.to(device);
            model.Module.eval();
        }
        catch
        {
            model.Module.Dispose();
            throw;
        }
        StackSettings? stack = null;
        if (ReadStackTopK(File.ReadAllText(configPath), configPath) is int topK)
        {
            string predictorDir = Path.Combine(directory, TypePredictorFolder);
            if (!Directory.Exists(predictorDir))
            {
                model.Module.Dispose();
                throw new FileNotFoundException($"'{directory}' is a STACK model ({configPath} has '{StackField}') but has no {TypePredictorFolder}/ folder with its type predictor.", predictorDir);
            }
            try
            {
                var loaded = Checkpoint.Load(predictorDir, registry, device);
                if (tokenizer.Options.RnaTypes is null || !tokenizer.Options.RnaTypes.Equals(loaded.Tokenizer.Options.RnaTypes))
                {
                    loaded.Dispose();
                    throw new FormatException($"{predictorDir}: the type predictor's RNA types differ from those of '{directory}'.");
                }
                if (topK > tokenizer.Options.RnaTypes.Count) throw new FormatException($"{configPath}: '{StackField}.top_k' {topK} exceeds the {tokenizer.Options.RnaTypes.Count} RNA types.");
                stack = new StackSettings(loaded.Model, loaded.Config, topK);
            }
            catch
            {
                model.Module.Dispose();
                throw;
            }
        }
        return new FineTunedModel(family, config, tokenizer, model, task, labels) { Stack = stack };
    }
}
