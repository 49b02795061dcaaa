using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using RnaLm.Models;
using RnaLm.Training;

namespace RnaLm.Cli.Commands;

/// <summary>The built-in default model: <c>models/rnalm-mini</c> next to the rnalm executable (copied there at build time).</summary>
internal static class DefaultModel
{
    /// <summary>Name of the default model family and variant.</summary>
    public const string Name = "rnalm-mini";

    /// <summary>Environment variable that points at another default model folder.</summary>
    public const string EnvironmentVariable = "RNALM_DEFAULT_MODEL";

    /// <summary>The folder of the built-in model.</summary>
    public static string Directory
    {
        get
        {
            string? custom = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrEmpty(custom) ? Path.Combine(AppContext.BaseDirectory, "models", Name) : custom;
        }
    }

    /// <summary>Text for --checkpoint help: what happens when it is left out.</summary>
    public const string CheckpointHelp =
        "Checkpoint folder (config.json, vocab.txt, tokenizer_config.json, model.safetensors); default: the built-in rnalm-mini model.";
}

/// <summary>Checks before a training run allocates its model.</summary>
internal static class TrainingMemory
{
    /// <summary>
    /// Refuses a run whose parameters alone cannot fit in the memory this process may use: float32 weights, plus
    /// their gradients and the two AdamW moments when they train (activations come on top), so that an impossible
    /// size is an error before allocation rather than an allocator failure or the system killing the process.
    /// </summary>
    public static void Check(string command, IModelConfig config, bool trains)
    {
        long parameters = config.CountBackboneParameters() + (long)config.VocabSize * config.HiddenSize;
        long bytes = parameters * (trains ? 16L : 4L);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && bytes > available)
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"{command}: the model has about {parameters:N0} parameters, which need at least {bytes / 1e9:F1} GB " +
                $"({(trains ? "weights, gradients and AdamW moments" : "weights")}) while {available / 1e9:F1} GB of memory is available."));
        }
    }
}

/// <summary>Option parsers and settings shared by pretrain, finetune and evaluate.</summary>
internal static class TrainingOptionParsers
{
    /// <summary>A number in [<paramref name="minimum"/>, <paramref name="maximum"/>] (exclusive bounds when asked).</summary>
    public static Func<ArgumentResult, double> Number(string option, double minimum, double maximum, bool minimumExclusive = false)
        => result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            {
                result.AddError($"{option} expects a number, not '{text}'.");
                return minimum;
            }
            if (value < minimum || (minimumExclusive && value == minimum) || value > maximum)
            {
                string low = minimumExclusive ? $"greater than {minimum.ToString(CultureInfo.InvariantCulture)}" : $"at least {minimum.ToString(CultureInfo.InvariantCulture)}";
                result.AddError($"{option} must be {low} and at most {maximum.ToString(CultureInfo.InvariantCulture)} (got {text}).");
            }
            return value;
        };

    /// <summary>A whole number of at least <paramref name="minimum"/> (64-bit).</summary>
    public static Func<ArgumentResult, long?> OptionalLong(string option, long minimum) => result =>
    {
        if (result.Tokens.Count == 0) return null;
        string text = result.Tokens[^1].Value;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            result.AddError($"{option} expects a whole number, not '{text}'.");
            return null;
        }
        if (value < minimum) result.AddError($"{option} must be at least {minimum} (got {value}).");
        return value;
    };

    public static Func<ArgumentResult, long> Seed(string option) => result =>
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            result.AddError($"{option} expects a whole number, not '{text}'.");
        }
        return value;
    };

    public static DataSplit ParseSplit(string text) => text switch
    {
        "all" => DataSplit.All,
        "train" => DataSplit.Train,
        "held-out" or "heldout" => DataSplit.HeldOut,
        _ => throw new UsageException($"--split must be all, train or held-out (got '{text}')."),
    };

    /// <summary>The shared training options of pretrain and finetune.</summary>
    internal sealed class TrainerOptionSet
    {
        public Option<long> Seed { get; } = new("--seed") { Description = "Seed of data order, masking, dropout and initialisation.", HelpName = "N", DefaultValueFactory = _ => 42, CustomParser = TrainingOptionParsers.Seed("--seed") };
        public Option<int> BatchSize { get; }
        public Option<int?> MaxBatchTokens { get; }
        public Option<int> Accumulate { get; } = new("--accumulate") { Description = "Micro-batches per optimizer step (gradient accumulation).", HelpName = "N", DefaultValueFactory = _ => 1, CustomParser = OptionParsers.AtLeast("--accumulate", 1) };
        public Option<long?> Steps { get; } = new("--steps") { Description = "Optimizer steps (default: from --epochs).", HelpName = "N", CustomParser = OptionalLong("--steps", 1) };
        public Option<double> Epochs { get; }
        public Option<double> LearningRate { get; }
        public Option<double> MinLearningRate { get; } = new("--min-lr") { Description = "Learning rate at the end of the decay.", HelpName = "LR", DefaultValueFactory = _ => 1e-5, CustomParser = Number("--min-lr", 0, 10) };
        public Option<long?> Warmup { get; } = new("--warmup") { Description = "Warm-up steps (default: 6% of the steps).", HelpName = "N", CustomParser = OptionalLong("--warmup", 0) };
        public Option<string> Decay { get; } = new("--decay") { Description = "Decay after warm-up.", HelpName = "linear|cosine", DefaultValueFactory = _ => "linear" };
        public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "AdamW decoupled weight decay (not on biases and LayerNorm weights).", HelpName = "W", DefaultValueFactory = _ => 0.01, CustomParser = Number("--weight-decay", 0, 1) };
        public Option<double> MaxGradNorm { get; } = new("--max-grad-norm") { Description = "Clip gradients to this global L2 norm (0 = off).", HelpName = "X", DefaultValueFactory = _ => 1.0, CustomParser = Number("--max-grad-norm", 0, 1e6) };
        public Option<int> EvalEvery { get; } = new("--eval-every") { Description = "Evaluate on the held-out records every N steps (0 = at the end only).", HelpName = "N", DefaultValueFactory = _ => 0, CustomParser = OptionParsers.AtLeast("--eval-every", 0) };
        public Option<int> SaveEvery { get; } = new("--save-every") { Description = "Write a resumable checkpoint every N steps (0 = at the end only).", HelpName = "N", DefaultValueFactory = _ => 0, CustomParser = OptionParsers.AtLeast("--save-every", 0) };
        public Option<int> Keep { get; } = new("--keep") { Description = "Step checkpoints to keep (older ones are deleted).", HelpName = "N", DefaultValueFactory = _ => 2, CustomParser = OptionParsers.AtLeast("--keep", 1) };
        public Option<bool> Resume { get; } = new("--resume") { Description = "Continue from the latest checkpoint-* in --output." };
        public Option<long?> StopAfter { get; } = new("--stop-after") { Description = "Stop after N steps of this invocation (a checkpoint is written; continue with --resume).", HelpName = "N", CustomParser = OptionalLong("--stop-after", 1) };

        public TrainerOptionSet(int defaultBatchSize, double defaultEpochs, double defaultLearningRate, int? defaultMaxBatchTokens = 8192)
        {
            MaxBatchTokens = new("--max-batch-tokens") { Description = "Most padded tokens per micro-batch (records x longest); batches of long sequences hold fewer records.", HelpName = "N", DefaultValueFactory = _ => defaultMaxBatchTokens, CustomParser = OptionParsers.OptionalAtLeast("--max-batch-tokens", 1) };
            BatchSize = new("--batch-size") { Description = "Records per micro-batch.", HelpName = "N", DefaultValueFactory = _ => defaultBatchSize, CustomParser = OptionParsers.AtLeast("--batch-size", 1) };
            Epochs = new("--epochs") { Description = "Passes over the training records (when --steps is not given).", HelpName = "E", DefaultValueFactory = _ => defaultEpochs, CustomParser = Number("--epochs", 0, 1e6, minimumExclusive: true) };
            LearningRate = new("--lr") { Description = "Peak learning rate.", HelpName = "LR", DefaultValueFactory = _ => defaultLearningRate, CustomParser = Number("--lr", 0, 10, minimumExclusive: true) };
        }

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { Seed, BatchSize, MaxBatchTokens, Accumulate, Steps, Epochs, LearningRate, MinLearningRate, Warmup, Decay, WeightDecay, MaxGradNorm, EvalEvery, SaveEvery, Keep, Resume, StopAfter })
            {
                command.Options.Add(option);
            }
        }

        public TrainerOptions Read(ParseResult parse)
        {
            var decay = parse.GetValue(Decay) switch
            {
                "linear" => DecayKind.Linear,
                "cosine" => DecayKind.Cosine,
                var other => throw new UsageException($"--decay must be linear or cosine (got '{other}')."),
            };
            double lr = parse.GetValue(LearningRate);
            double minLr = parse.GetValue(MinLearningRate);
            if (minLr > lr) throw new UsageException($"--min-lr {minLr} is larger than --lr {lr}.");
            return new TrainerOptions
            {
                Seed = parse.GetValue(Seed),
                BatchSize = parse.GetValue(BatchSize),
                MaxBatchTokens = parse.GetValue(MaxBatchTokens),
                AccumulationSteps = parse.GetValue(Accumulate),
                MaxSteps = parse.GetValue(Steps),
                Epochs = parse.GetValue(Epochs),
                LearningRate = lr,
                MinLearningRate = minLr,
                WarmupSteps = parse.GetValue(Warmup),
                Decay = decay,
                Optimizer = new AdamWOptions { WeightDecay = parse.GetValue(WeightDecay) },
                MaxGradNorm = parse.GetValue(MaxGradNorm),
                EvalEvery = parse.GetValue(EvalEvery),
                SaveEvery = parse.GetValue(SaveEvery),
                KeepCheckpoints = parse.GetValue(Keep),
                StopAfterSteps = parse.GetValue(StopAfter),
            };
        }
    }

    /// <summary>Options that shrink or resize a new model (tests and experiments).</summary>
    internal sealed class SizeOptionSet
    {
        public Option<int?> Hidden { get; } = new("--hidden") { Description = "Override hidden_size of a new model.", HelpName = "H", CustomParser = OptionParsers.OptionalAtLeast("--hidden", 1) };
        public Option<int?> Layers { get; } = new("--layers") { Description = "Override num_hidden_layers of a new model.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--layers", 1) };
        public Option<int?> Heads { get; } = new("--heads") { Description = "Override num_attention_heads of a new model.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--heads", 1) };
        public Option<int?> Intermediate { get; } = new("--intermediate") { Description = "Override intermediate_size of a new model.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--intermediate", 1) };
        public Option<int?> MaxPositions { get; } = new("--max-positions") { Description = "Override max_position_embeddings of a new model.", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--max-positions", 3) };
        public Option<double?> Dropout { get; } = new("--dropout") { Description = "Override hidden_dropout and attention_dropout (training only; default: the config's 0.1).", HelpName = "P", CustomParser = r => r.Tokens.Count == 0 ? null : Number("--dropout", 0, 0.9)(r) };

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { Hidden, Layers, Heads, Intermediate, MaxPositions, Dropout }) command.Options.Add(option);
        }

        public ConfigOverrides Read(ParseResult parse) => new()
        {
            HiddenSize = parse.GetValue(Hidden),
            NumHiddenLayers = parse.GetValue(Layers),
            NumAttentionHeads = parse.GetValue(Heads),
            IntermediateSize = parse.GetValue(Intermediate),
            MaxPositionEmbeddings = parse.GetValue(MaxPositions),
            HiddenDropout = parse.GetValue(Dropout),
            AttentionDropout = parse.GetValue(Dropout),
        };
    }
}
