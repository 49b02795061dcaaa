using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using RnaLm.Checkpoints;
using RnaLm.Heads;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>One pair of RNA sequences (e.g. a miRNA and a target site) and whether they interact.</summary>
/// <param name="AName">Name of the first sequence.</param>
/// <param name="A">The first sequence.</param>
/// <param name="BName">Name of the second sequence.</param>
/// <param name="B">The second sequence.</param>
/// <param name="Label">1 = interacts, 0 = does not, null = unknown (prediction input).</param>
/// <param name="Source">File and line, for messages.</param>
public sealed record SequencePair(string AName, string A, string BName, string B, int? Label, string Source)
{
    /// <summary>The pair's name: <c>a_name|b_name</c>.</summary>
    public string Name => AName + "|" + BName;

    /// <summary>What the held-out split hashes: both sequences, so identical pairs always fall on the same side.</summary>
    public string SplitKey => A + "|" + B;
}

/// <summary>
/// Reads pair files in the DeepMirTar CSV layout: a header <c>a_name,a_seq,b_name,b_seq,label</c> (the label column may
/// be left out for prediction), then one pair per line, label 0 or 1. Fields hold no commas or quotes. Sequences are
/// read as written; the tokenizer upper-cases them and replaces T with U as it is configured to.
/// </summary>
public static class PairFiles
{
    private static readonly string[] Columns = { "a_name", "a_seq", "b_name", "b_seq", "label" };

    /// <summary>Reads every pair of a CSV file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="requireLabels">Every line must have a label (training and evaluation).</param>
    /// <exception cref="FormatException">The header, a line or a value is malformed (the message gives file and line).</exception>
    public static List<SequencePair> Read(string path, bool requireLabels)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Pair file '{path}' does not exist.", path);
        var pairs = new List<SequencePair>();
        int lineNumber = 0;
        bool labelled = false;
        foreach (string raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.EndsWith('\r') ? raw[..^1] : raw;
            if (lineNumber == 1)
            {
                var header = line.TrimStart('\uFEFF').Split(',');
                labelled = header.Length == 5;
                if (!(header.Length is 4 or 5) || !header.SequenceEqual(Columns.Take(header.Length), StringComparer.Ordinal))
                {
                    throw new FormatException($"{path}:1: the header must be '{string.Join(",", Columns)}' (or the first four columns for prediction), found '{line}'.");
                }
                if (requireLabels && !labelled) throw new FormatException($"{path}:1: there is no label column; training and evaluation need '{string.Join(",", Columns)}'.");
                continue;
            }
            if (line.Length == 0) continue;
            var fields = line.Split(',');
            int expected = labelled ? 5 : 4;
            if (fields.Length != expected)
            {
                throw new FormatException($"{path}:{lineNumber}: {fields.Length} fields, expected {expected} ({string.Join(",", Columns.Take(expected))}).");
            }
            for (int f = 0; f < 4; f++)
            {
                if (fields[f].Trim().Length == 0) throw new FormatException($"{path}:{lineNumber}: '{Columns[f]}' is empty.");
            }
            int? label = null;
            if (labelled)
            {
                label = fields[4].Trim() switch
                {
                    "0" => 0,
                    "1" => 1,
                    var other => throw new FormatException($"{path}:{lineNumber}: label '{other}' of pair '{fields[0]}|{fields[2]}' is not 0 or 1."),
                };
            }
            pairs.Add(new SequencePair(fields[0].Trim(), fields[1].Trim(), fields[2].Trim(), fields[3].Trim(), label, $"{path}:{lineNumber}"));
        }
        if (lineNumber == 0) throw new FormatException($"{path}: the file is empty; it needs the header '{string.Join(",", Columns)}'.");
        return pairs;
    }

    /// <summary>Keeps one side of the hashed split of <see cref="SequencePair.SplitKey"/> (see <see cref="HeldOutSplit"/>).</summary>
    public static List<SequencePair> Split(IEnumerable<SequencePair> pairs, DataSplit split, double heldOutFraction) => split switch
    {
        DataSplit.All => pairs.ToList(),
        DataSplit.Train => pairs.Where(p => !HeldOutSplit.IsHeldOut(p.SplitKey, heldOutFraction)).ToList(),
        DataSplit.HeldOut => pairs.Where(p => HeldOutSplit.IsHeldOut(p.SplitKey, heldOutFraction)).ToList(),
        _ => throw new ArgumentOutOfRangeException(nameof(split)),
    };
}

/// <summary>A backbone and a <see cref="PairInteractionHead"/>: keys <c>&lt;prefix&gt;.*</c> and <c>pair_head.*</c>.</summary>
public sealed class PairInteractionModel : nn.Module
{
    /// <summary>The architectures entry written to a pair model's config.json.</summary>
    public const string ArchitectureSuffix = "ForPairPrediction";

    private readonly nn.Module _backbone;
    private readonly IRnaBackbone _forward;
    private readonly PairInteractionHead pair_head;
    private readonly long? _bos;
    private readonly long? _eos;

    /// <param name="family">The backbone's family.</param>
    /// <param name="config">The backbone's configuration.</param>
    /// <param name="tokenizer">The tokenizer (its &lt;cls&gt;/&lt;eos&gt; are removed from the features).</param>
    public PairInteractionModel(IModelFamily family, IModelConfig config, RnaTokenizer tokenizer) : base("PairInteractionModel")
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        // The backbone of a token model (no pooler), without its token head.
        var carrier = family.CreatePredictionModel(config, PredictionTask.Token, 2);
        _forward = carrier.Backbone;
        _backbone = (nn.Module)carrier.Backbone;
        pair_head = new PairInteractionHead(config.HiddenSize, Math.Max(1, config.HiddenSize / 2));
        register_module(family.Naming.Prefix, _backbone);
        register_module("pair_head", pair_head);
        _bos = tokenizer.Options.AddBos ? tokenizer.Vocabulary.BosId : null;
        _eos = tokenizer.Options.AddEos ? tokenizer.Vocabulary.EosId : null;
    }

    /// <summary>The head (for initialisation and freezing).</summary>
    public nn.Module Head => pair_head;

    /// <summary>Interaction logits [B] of pairs given as padded rows of the first and second sequences.</summary>
    public Tensor Forward(Tensor aIds, Tensor aMask, Tensor bIds, Tensor bMask)
    {
        using var scope = NewDisposeScope();
        var (a, aKeep) = Features(aIds, aMask);
        var (b, bKeep) = Features(bIds, bMask);
        long batch = a.shape[0], hidden = a.shape[2];
        long[] aLengths = aKeep.sum(1).cpu().data<long>().ToArray();
        long[] bLengths = bKeep.sum(1).cpu().data<long>().ToArray();
        long longest = Enumerable.Range(0, (int)batch).Max(i => aLengths[i] + bLengths[i]);
        var rows = new List<Tensor>((int)batch);
        for (int i = 0; i < batch; i++)
        {
            var joined = cat(new[] { a[i].narrow(0, 0, aLengths[i]), b[i].narrow(0, 0, bLengths[i]) }, 0);
            rows.Add(nn.functional.pad(joined, new long[] { 0, 0, 0, longest - joined.shape[0] }));
        }
        var lengths = tensor(Enumerable.Range(0, (int)batch).Select(i => Math.Max(1, aLengths[i] + bLengths[i])).ToArray(), int64, a.device);
        var features = stack(rows).reshape(batch, longest, hidden);
        return pair_head.call(features, lengths).MoveToOuterDisposeScope();
    }

    /// <summary>Token features without &lt;cls&gt;/&lt;eos&gt; [B, L', H] and their 0/1 mask (int64) [B, L'].</summary>
    private (Tensor Features, Tensor Mask) Features(Tensor ids, Tensor mask)
    {
        var hidden = _forward.Forward(ids, mask).LastHiddenState;
        var (features, kept) = SpecialTokens.Remove(hidden, ids, mask, _bos, _eos);
        return (features, kept.to_type(int64));
    }
}

/// <summary>Binary metrics from labels and predicted probabilities: accuracy, precision, recall and F1 at 0.5, and ROC AUC.</summary>
public sealed class BinaryMetrics
{
    private readonly List<(int Label, double Score)> _items = new();

    public int Count => _items.Count;

    public void Add(int label, double probability)
    {
        if (label is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(label), label, "A binary label is 0 or 1.");
        _items.Add((label, probability));
    }

    private (long Tp, long Fp, long Tn, long Fn) Counts()
    {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        foreach (var (label, score) in _items)
        {
            bool positive = score >= 0.5;
            if (positive && label == 1) tp++;
            else if (positive) fp++;
            else if (label == 1) fn++;
            else tn++;
        }
        return (tp, fp, tn, fn);
    }

    public double Accuracy
    {
        get
        {
            var (tp, _, tn, _) = Counts();
            return Count == 0 ? double.NaN : (double)(tp + tn) / Count;
        }
    }

    /// <summary>TP / predicted positives (0 when nothing is predicted positive).</summary>
    public double Precision
    {
        get
        {
            var (tp, fp, _, _) = Counts();
            return tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        }
    }

    /// <summary>TP / true positives (0 when there are none).</summary>
    public double Recall
    {
        get
        {
            var (tp, _, _, fn) = Counts();
            return tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        }
    }

    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    /// <summary>
    /// Area under the ROC curve: the probability that a random positive scores above a random negative, ties counting
    /// one half (the Mann–Whitney statistic); NaN without both classes or when a score is NaN.
    /// </summary>
    public double Auc
    {
        get
        {
            long positives = _items.Count(i => i.Label == 1), negatives = _items.Count - positives;
            if (positives == 0 || negatives == 0 || _items.Any(i => double.IsNaN(i.Score))) return double.NaN;
            var sorted = _items.OrderBy(i => i.Score).ToList();
            double rankSum = 0;
            for (int i = 0; i < sorted.Count;)
            {
                int j = i + 1;
                while (j < sorted.Count && sorted[j].Score == sorted[i].Score) j++;
                double rank = (i + 1 + j) / 2.0; // mean of ranks i+1 .. j
                for (int t = i; t < j; t++) if (sorted[t].Label == 1) rankSum += rank;
                i = j;
            }
            return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
        }
    }
}

/// <summary>
/// Fine-tuning of a <see cref="PairInteractionModel"/> on labelled pairs: binary cross-entropy of the interaction logit;
/// evaluation reports loss, accuracy, precision, recall, F1 and AUC. A sequence longer than the model keeps its first
/// nucleotides.
/// </summary>
public sealed class PairTrainingTask : ITrainingTask
{
    private readonly PairInteractionModel _model;
    private readonly IModelFamily _family;
    private readonly IModelConfig _config;
    private readonly RnaTokenizer _tokenizer;
    private readonly IReadOnlyList<SequencePair> _train;
    private readonly IReadOnlyList<SequencePair> _eval;
    private readonly Device _device;
    private readonly int[] _lengths;

    private sealed record Batch(SequencePair[] Pairs, long Targets, long Tokens) : IMicroBatch;

    public PairTrainingTask(PairInteractionModel model, IModelFamily family, IModelConfig config, RnaTokenizer tokenizer,
        IReadOnlyList<SequencePair> train, IReadOnlyList<SequencePair> eval, Device? device = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _family = family ?? throw new ArgumentNullException(nameof(family));
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _train = train ?? throw new ArgumentNullException(nameof(train));
        _eval = eval ?? throw new ArgumentNullException(nameof(eval));
        _device = device ?? CPU;
        if (train.Count == 0) throw new ArgumentException("There are no training pairs.", nameof(train));
        if (train.Concat(eval).FirstOrDefault(p => p.Label is null) is { } unlabelled) throw new ArgumentException($"{unlabelled.Source}: pair '{unlabelled.Name}' has no label.");
        int maxContent = TaskInputs.MaxContent(tokenizer, config, stack: false);
        int specials = (tokenizer.Options.AddBos ? 1 : 0) + (tokenizer.Options.AddEos ? 1 : 0);
        _lengths = train.Select(p => 2 * specials + Math.Min(p.A.Length, maxContent) + Math.Min(p.B.Length, maxContent)).ToArray();
    }

    public string Kind => "pair";

    public nn.Module Module => _model;

    public IReadOnlyList<int> TrainingLengths => _lengths;

    public IMicroBatch Prepare(int[] records, TrainingRandom random)
    {
        var pairs = records.Select(i => _train[i]).ToArray();
        return new Batch(pairs, pairs.Length, pairs.Sum(p => (long)p.A.Length + p.B.Length));
    }

    /// <summary>Interaction logits [B] of pairs (sequences longer than the model keep their first nucleotides).</summary>
    public static Tensor Logits(PairInteractionModel model, RnaTokenizer tokenizer, IModelConfig config, IReadOnlyList<SequencePair> pairs, Device device)
    {
        var truncate = new ChunkOptions(LongRecordPolicy.Truncate);
        var a = TaskInputs.Create(tokenizer, config, pairs.Select(p => p.A).ToList(), truncate);
        var b = TaskInputs.Create(tokenizer, config, pairs.Select(p => p.B).ToList(), truncate);
        var (aIds, aMask) = a.ToTensors(device);
        var (bIds, bMask) = b.ToTensors(device);
        return model.Forward(aIds, aMask, bIds, bMask);
    }

    public Tensor Loss(IMicroBatch microBatch, double normalizer)
    {
        var batch = (Batch)microBatch;
        using var scope = NewDisposeScope();
        var logits = Logits(_model, _tokenizer, _config, batch.Pairs, _device);
        var labels = tensor(batch.Pairs.Select(p => (float)p.Label!.Value).ToArray(), float32, _device);
        var loss = nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction: nn.Reduction.Sum) / normalizer;
        return loss.MoveToOuterDisposeScope();
    }

    public Evaluation? Evaluate(long step) => _eval.Count == 0 ? null : EvaluateOn(_eval, step, 64);

    /// <summary>Metrics on labelled pairs (evaluation mode, no gradients).</summary>
    public Evaluation EvaluateOn(IReadOnlyList<SequencePair> pairs, long step, int batchSize)
    {
        var probabilities = PairPredictor.Probabilities(_model, _tokenizer, _config, pairs, batchSize, _device);
        var metrics = new BinaryMetrics();
        double loss = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            int label = pairs[i].Label ?? throw new ArgumentException($"{pairs[i].Source}: pair '{pairs[i].Name}' has no label.");
            metrics.Add(label, probabilities[i]);
            double p = Math.Clamp(probabilities[i], 1e-7, 1 - 1e-7);
            loss -= label == 1 ? Math.Log(p) : Math.Log(1 - p);
        }
        return new Evaluation(step, new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["loss"] = pairs.Count == 0 ? double.NaN : loss / pairs.Count,
            ["accuracy"] = metrics.Accuracy,
            ["precision"] = metrics.Precision,
            ["recall"] = metrics.Recall,
            ["f1"] = metrics.F1,
            ["auc"] = metrics.Auc,
            ["examples"] = pairs.Count,
        });
    }

    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["task"] = Kind,
        ["window_tokens"] = FormattableString.Invariant($"{TaskInputs.MaxContent(_tokenizer, _config, false)}"),
        ["evaluation_records"] = FormattableString.Invariant($"{_eval.Count}"),
        ["trainable_parameters"] = FormattableString.Invariant($"{_model.parameters().Where(p => p.requires_grad).Sum(p => p.numel())}"),
    };

    public void SaveModel(string directory)
    {
        File.WriteAllText(Path.Combine(directory, Checkpoint.ConfigFile), _config.ToJson());
        CheckpointWriter.SaveTokenizer(directory, _tokenizer);
        CheckpointWriter.SaveWeights(Path.Combine(directory, Checkpoint.WeightsFile), _model, _family.Naming);
    }

    public void LoadModel(string directory) =>
        Checkpoint.LoadWeights(_model, _family.Naming, new[] { Path.Combine(directory, Checkpoint.WeightsFile) });
}

/// <summary>Building, loading and running pair models.</summary>
public static class PairPredictor
{
    /// <summary>The <c>rnalm_task</c> of a pair model.</summary>
    public const string TaskName = "pair";

    /// <summary>A config for a pair model: <paramref name="baseConfig"/> with <c>rnalm_task: "pair"</c> and the labels negative/positive.</summary>
    public static IModelConfig TaskConfig(IModelFamily family, IModelConfig baseConfig, ConfigOverrides? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(family);
        var config = overrides is null ? baseConfig : ModelSetup.WithOverrides(family, baseConfig, overrides);
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        json["num_labels"] = 1;
        json["id2label"] = new JsonObject { ["0"] = "negative", ["1"] = "positive" };
        json["label2id"] = new JsonObject { ["negative"] = 0, ["positive"] = 1 };
        json[FineTuning.TaskField] = TaskName;
        json["architectures"] = new JsonArray(JsonValue.Create(family.Name + PairInteractionModel.ArchitectureSuffix));
        return family.ReadConfig(json.ToJsonString(), "pair fine-tuning config");
    }

    /// <summary>The <c>rnalm_task</c> of a config.json, or null when it has none.</summary>
    public static string? TaskOf(string configJson) =>
        (JsonNode.Parse(configJson) as JsonObject)?[FineTuning.TaskField] is JsonValue value && value.TryGetValue<string>(out var name) ? name : null;

    /// <summary>
    /// A pair model with BERT initialisation (from <paramref name="seed"/>); with <paramref name="checkpointWeights"/>, the
    /// backbone is loaded from a pretrained checkpoint (its <c>lm_head</c> ignored). Returns the names of the loaded parameters.
    /// </summary>
    public static (PairInteractionModel Model, IReadOnlySet<string> Loaded) Create(IModelFamily family, IModelConfig config, RnaTokenizer tokenizer,
        string? checkpointWeights, long seed)
    {
        ArgumentNullException.ThrowIfNull(family);
        var options = new CheckpointLoadOptions
        {
            AllowMissingPrefixes = new[] { "pair_head.", family.Naming.Prefix + ".pooler." },
            AllowUnexpectedPrefixes = new[] { "lm_head." },
        };
        if (checkpointWeights is not null)
        {
            string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointWeights)) ?? ".", Checkpoint.ConfigFile);
            Checkpoint.CheckWeights(config, configPath, family.Naming, new[] { checkpointWeights }, () => new PairInteractionModel(family, config, tokenizer), options);
        }
        ModelSetup.Seed(seed);
        var model = new PairInteractionModel(family, config, tokenizer);
        try
        {
            ModelSetup.InitializeWeights(model);
            ModelSetup.ZeroPaddingRow(model, config.PadTokenId);
            var loaded = new HashSet<string>(StringComparer.Ordinal);
            if (checkpointWeights is not null)
            {
                Checkpoint.LoadWeights(model, family.Naming, new[] { checkpointWeights }, options);
                using var file = SafeTensorsFile.Open(checkpointWeights);
                var stored = file.Tensors.Select(t => family.Naming.Normalize(t.Name)).ToHashSet(StringComparer.Ordinal);
                foreach (var (name, _) in model.named_parameters()) if (stored.Contains(name)) loaded.Add(name);
            }
            return (model, loaded);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A pair model folder written by <c>rnalm finetune --task pair</c>.</summary>
    public sealed record LoadedPairModel(IModelFamily Family, IModelConfig Config, RnaTokenizer Tokenizer, PairInteractionModel Model) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }

    /// <summary>Loads a pair model folder strictly.</summary>
    /// <exception cref="FormatException">The folder's config.json is not a pair model's.</exception>
    public static LoadedPairModel Load(string directory, ModelRegistry registry, Device? device = null)
    {
        var (family, config) = Checkpoint.ReadConfig(directory, registry);
        string configPath = Path.Combine(directory, Checkpoint.ConfigFile);
        if (TaskOf(File.ReadAllText(configPath)) != TaskName) throw new FormatException($"{configPath}: '{FineTuning.TaskField}' is not \"{TaskName}\"; it is not a pair model written by rnalm finetune --task pair.");
        var tokenizer = Checkpoint.ReadTokenizer(directory, config);
        string[] weights = { Path.Combine(directory, Checkpoint.WeightsFile) };
        Checkpoint.CheckWeights(config, configPath, family.Naming, weights, () => new PairInteractionModel(family, config, tokenizer));
        var model = new PairInteractionModel(family, config, tokenizer);
        try
        {
            Checkpoint.LoadWeights(model, family.Naming, weights);
            if (device is not null) model.to(device);
            model.eval();
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new LoadedPairModel(family, config, tokenizer, model);
    }

    /// <summary>
    /// The interaction probability of every pair, in input order (evaluation mode, no gradients; batches of similar
    /// length; results do not depend on <paramref name="batchSize"/>).
    /// </summary>
    public static double[] Probabilities(PairInteractionModel model, RnaTokenizer tokenizer, IModelConfig config, IReadOnlyList<SequencePair> pairs,
        int batchSize = 64, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var target = device ?? CPU;
        var result = new double[pairs.Count];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var order = Enumerable.Range(0, pairs.Count).OrderBy(i => pairs[i].A.Length + pairs[i].B.Length).ThenBy(i => i).ToArray();
            foreach (var chunk in order.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                var logits = PairTrainingTask.Logits(model, tokenizer, config, chunk.Select(i => pairs[i]).ToList(), target);
                float[] p = logits.sigmoid().cpu().data<float>().ToArray();
                for (int b = 0; b < chunk.Length; b++) result[chunk[b]] = p[b];
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return result;
    }

    /// <summary>Applies a fine-tuning mode: FBTH freezes the loaded parameters, TBTH trains everything. Returns the trainable count.</summary>
    public static long ApplyMode(PairInteractionModel model, FineTuningMode mode, IReadOnlySet<string> loaded)
    {
        ArgumentNullException.ThrowIfNull(model);
        long trainable = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            bool train = mode == FineTuningMode.Tbth || !loaded.Contains(name);
            parameter.requires_grad = train;
            if (train) trainable += parameter.numel();
        }
        return trainable;
    }
}
