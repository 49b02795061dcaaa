using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>Settings of a training run (pretraining or fine-tuning).</summary>
public sealed record TrainerOptions
{
    /// <summary>Seeds data order, masking, dropout and (for new models) initialisation.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Records per micro-batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Most padded tokens per micro-batch (records × longest record), or null for no limit: keeps the memory
    /// of batches of long sequences (attention is quadratic) close to that of typical batches.</summary>
    public int? MaxBatchTokens { get; init; }

    /// <summary>Micro-batches whose gradients are summed before each optimizer step.</summary>
    public int AccumulationSteps { get; init; } = 1;

    /// <summary>Optimizer steps; null derives them from <see cref="Epochs"/>.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Passes over the training records when <see cref="MaxSteps"/> is null.</summary>
    public double Epochs { get; init; } = 1;

    /// <summary>Peak learning rate (reached at the end of warm-up).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning rate at the end of the decay.</summary>
    public double MinLearningRate { get; init; } = 1e-5;

    /// <summary>Warm-up steps; null means 6% of the steps.</summary>
    public long? WarmupSteps { get; init; }

    public DecayKind Decay { get; init; } = DecayKind.Linear;

    public AdamWOptions Optimizer { get; init; } = new();

    /// <summary>Gradient clipping: the largest global L2 norm (0 = no clipping).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Evaluate on the held-out records every N steps (0 = only at the end).</summary>
    public int EvalEvery { get; init; }

    /// <summary>Write a resumable checkpoint every N steps (0 = only at the end).</summary>
    public int SaveEvery { get; init; }

    /// <summary>How many of the latest step checkpoints to keep (older ones are deleted).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Stop after this many steps of this invocation, as if interrupted (a checkpoint is written first).</summary>
    public long? StopAfterSteps { get; init; }

    /// <summary>
    /// Model selection: a metric of the evaluations (higher is better, e.g. <c>f1</c>, <c>structure_f1</c>, <c>accuracy</c>).
    /// Each evaluation that improves it writes the model to <c>best/</c>, and <c>final/</c> holds the best evaluated
    /// weights rather than the last ones. Null: <c>final/</c> is the last step.
    /// </summary>
    public string? SelectBy { get; init; }

    /// <summary>Free-form facts about the run (data files, starting checkpoint, ...) recorded in <c>trainer_state.json</c> under <c>run</c>.</summary>
    public IReadOnlyDictionary<string, string>? RunInfo { get; init; }

    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentException($"The batch size must be at least 1 (got {BatchSize}).");
        if (MaxBatchTokens is < 1) throw new ArgumentException($"The token budget per batch must be positive (got {MaxBatchTokens}).");
        if (AccumulationSteps < 1) throw new ArgumentException($"The accumulation steps must be at least 1 (got {AccumulationSteps}).");
        if (MaxSteps is < 1) throw new ArgumentException($"The number of steps must be at least 1 (got {MaxSteps}).");
        if (MaxSteps is null && !(Epochs > 0)) throw new ArgumentException($"The number of epochs must be positive (got {Epochs}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"The learning rate must be positive (got {LearningRate}).");
        if (!(MinLearningRate >= 0 && MinLearningRate <= LearningRate)) throw new ArgumentException($"The minimum learning rate must be in [0, {LearningRate}] (got {MinLearningRate}).");
        if (WarmupSteps is < 0) throw new ArgumentException($"The warm-up steps must not be negative (got {WarmupSteps}).");
        if (MaxGradNorm < 0) throw new ArgumentException($"The gradient-norm limit must not be negative (got {MaxGradNorm}).");
        if (EvalEvery < 0 || SaveEvery < 0) throw new ArgumentException("--eval-every and --save-every must not be negative.");
        if (KeepCheckpoints < 1) throw new ArgumentException($"At least one checkpoint must be kept (got {KeepCheckpoints}).");
    }
}

/// <summary>One micro-batch prepared on the CPU (ids, labels) before it meets the model.</summary>
public interface IMicroBatch
{
    /// <summary>Predicted targets (masked tokens, labelled records or pairs): the loss is a sum over them.</summary>
    long Targets { get; }

    /// <summary>Real tokens (for throughput).</summary>
    long Tokens { get; }
}

/// <summary>Metrics of one evaluation, by name (e.g. loss, accuracy).</summary>
public sealed class Evaluation
{
    public Evaluation(long step, IReadOnlyDictionary<string, double> metrics)
    {
        Step = step;
        Metrics = metrics;
    }

    public long Step { get; }

    public IReadOnlyDictionary<string, double> Metrics { get; }

    public double this[string name] => Metrics[name];

    public override string ToString() =>
        string.Join(" ", Metrics.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:0.####}")));

    internal JsonObject ToJson()
    {
        var o = new JsonObject { ["step"] = Step };
        foreach (var (k, v) in Metrics) o[k] = double.IsFinite(v) ? v : null;
        return o;
    }

    internal static Evaluation FromJson(JsonObject o)
    {
        long step = o["step"]!.GetValue<long>();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in o)
        {
            if (k == "step") continue;
            metrics[k] = v is null ? double.NaN : v.GetValue<double>();
        }
        return new Evaluation(step, metrics);
    }
}

/// <summary>What a trainer trains: the model, the data and the loss of one task.</summary>
public interface ITrainingTask
{
    /// <summary>"mlm", "sequence", "token" or "contact" (stored in the trainer state, checked on resume).</summary>
    string Kind { get; }

    /// <summary>The module whose trainable parameters are optimized.</summary>
    nn.Module Module { get; }

    /// <summary>Token count of each training record (for length-sorted batching).</summary>
    IReadOnlyList<int> TrainingLengths { get; }

    /// <summary>Builds the micro-batch of the given training records; all randomness comes from <paramref name="random"/>.</summary>
    IMicroBatch Prepare(int[] records, TrainingRandom random);

    /// <summary>The loss of a micro-batch: the sum over its targets divided by <paramref name="normalizer"/>.</summary>
    Tensor Loss(IMicroBatch batch, double normalizer);

    /// <summary>Metrics on the held-out records (the module is in eval mode during the call), or null when there are none.</summary>
    Evaluation? Evaluate(long step);

    /// <summary>Writes the model folder files (config.json, tokenizer, model.safetensors) into an existing folder.</summary>
    void SaveModel(string directory);

    /// <summary>Loads weights saved by <see cref="SaveModel"/> (strictly) from a checkpoint folder.</summary>
    void LoadModel(string directory);

    /// <summary>
    /// The task's own settings (masking rates, labels, ...), recorded in <c>trainer_state.json</c> under
    /// <c>task_settings</c>. A resumed run must have the same values, except for keys starting with <c>evaluation_</c>,
    /// which describe only the evaluation.
    /// </summary>
    IReadOnlyDictionary<string, string> Settings { get; }
}

/// <summary>How a run ended.</summary>
public sealed record TrainingResult(
    long Steps,
    long TotalSteps,
    bool Completed,
    Evaluation? FinalEvaluation,
    IReadOnlyList<Evaluation> Evaluations,
    double LastTrainLoss,
    TimeSpan Elapsed,
    double TokensPerSecond,
    string? LastCheckpoint,
    string? FinalModel)
{
    /// <summary>With <see cref="TrainerOptions.SelectBy"/>: the step whose weights <c>final/</c> holds.</summary>
    public long? SelectedStep { get; init; }
}

/// <summary>
/// The training loop shared by pretraining and fine-tuning: AdamW with warm-up and linear/cosine decay, global-norm
/// gradient clipping, gradient accumulation, held-out evaluation, atomic resumable checkpoints and progress output.
/// </summary>
/// <remarks>
/// Determinism: micro-batch m (counted over the whole run) uses records <see cref="BatchPlan.Batch"/>(m), a masking
/// generator <see cref="TrainingRandom.For"/>(seed, Masking, m), and TorchSharp's generator reseeded from
/// (seed, Dropout, m) before its forward pass. The whole random state at a step boundary is therefore the step count;
/// a checkpoint stores it with the optimizer moments, so a resumed run repeats exactly what the uninterrupted run does.
/// Output folder: <c>checkpoint-NNNNNNN/</c> per saved step (model files + <c>trainer_state.json</c> +
/// <c>optimizer.safetensors</c>) and <c>final/</c> (model files + <c>trainer_state.json</c>).
/// </remarks>
public sealed class Trainer
{
    private LossHistory? _lossHistoryStore;
    private JsonArray? _resumedLossHistory;

    /// <summary>The training loss so far, written to <c>trainer_state.json</c> as <c>loss_history</c> ([step, mean loss, learning rate] points).</summary>
    private LossHistory Losses => _lossHistoryStore ??= new LossHistory(TotalSteps);

    public const string RunMarkerFile = "rnalm_run.json";
    public const string FinalFolder = "final";
    public const string BestFolder = "best";
    private const string StateFormat = "rnalm-trainer-state";

    private readonly ITrainingTask _task;
    private readonly TrainerOptions _options;
    private readonly string _outputDir;
    private readonly TextWriter _log;
    private readonly bool _interactive;
    private readonly BatchPlan _plan;

    /// <param name="task">What to train.</param>
    /// <param name="options">Settings.</param>
    /// <param name="outputDir">Run folder (created; an existing folder must be empty or an earlier rnalm run).</param>
    /// <param name="log">Progress and messages (stderr).</param>
    /// <param name="interactive">Draw a progress bar in place (true when stderr is a terminal).</param>
    public Trainer(ITrainingTask task, TrainerOptions options, string outputDir, TextWriter log, bool interactive)
    {
        _task = task ?? throw new ArgumentNullException(nameof(task));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        NativeMemory.KeepHeapFlat();
        _outputDir = Path.GetFullPath(outputDir ?? throw new ArgumentNullException(nameof(outputDir)));
        _log = log ?? throw new ArgumentNullException(nameof(log));
        _interactive = interactive;
        _plan = new BatchPlan(task.TrainingLengths, options.BatchSize, options.Seed, options.MaxBatchTokens);
        TotalSteps = options.MaxSteps ?? Math.Max(1, (long)Math.Ceiling(options.Epochs * _plan.BatchesPerEpoch / options.AccumulationSteps));
        long warmup = options.WarmupSteps ?? (long)Math.Round(0.06 * TotalSteps);
        Schedule = new LearningRateSchedule(options.LearningRate, options.MinLearningRate, Math.Min(warmup, TotalSteps), TotalSteps, options.Decay);
    }

    public long TotalSteps { get; }

    public LearningRateSchedule Schedule { get; }

    /// <summary>Batches per epoch (each micro-batch is one batch).</summary>
    public int BatchesPerEpoch => _plan.BatchesPerEpoch;

    /// <summary>
    /// Creates the run folder, or checks that an existing one may be used. In an earlier run's folder, what an
    /// interrupted run left behind (half-written or half-deleted hidden folders, see
    /// <see cref="CheckpointWriter.RemoveLeftovers"/>) is cleaned first, while the folder is locked against other runs.
    /// </summary>
    /// <returns>The number of leftover folders removed or put back.</returns>
    /// <exception cref="IOException">The folder exists and is not an rnalm run, holds checkpoints while <paramref name="resume"/> is false, or another run is using it.</exception>
    public static int PrepareOutput(string outputDir, bool resume)
    {
        string full = Path.GetFullPath(outputDir);
        if (File.Exists(full)) throw new IOException($"--output '{outputDir}' is a file, not a folder.");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
        {
            if (!File.Exists(Path.Combine(full, RunMarkerFile)))
            {
                throw new IOException($"--output '{outputDir}' exists and is not an rnalm training folder (no {RunMarkerFile}); refusing to write into it. Choose a new or empty folder.");
            }
            int cleaned;
            using (LockRun(full, outputDir))
            {
                cleaned = CheckpointWriter.RemoveLeftovers(full);
            }
            if (!resume && FindLatestCheckpoint(full) is not null)
            {
                throw new IOException($"--output '{outputDir}' holds checkpoints of an earlier run; pass --resume to continue it, or choose another folder.");
            }
            return cleaned;
        }
        Directory.CreateDirectory(full);
        File.WriteAllText(Path.Combine(full, RunMarkerFile),
            new JsonObject { ["format"] = "rnalm-run", ["created"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture) }.ToJsonString() + "\n");
        return 0;
    }

    /// <summary>
    /// Holds an exclusive lock on the run folder's marker file until disposed, so two runs never write (or clean)
    /// the same folder at once. Null when the folder has no marker.
    /// </summary>
    /// <exception cref="IOException">Another process holds the lock.</exception>
    private static FileStream? LockRun(string fullPath, string shownPath)
    {
        string marker = Path.Combine(fullPath, RunMarkerFile);
        if (!File.Exists(marker)) return null;
        try
        {
            return new FileStream(marker, FileMode.Open, FileAccess.Read, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"--output '{shownPath}' is in use by another rnalm run ({RunMarkerFile} is locked); wait for it to finish or choose another folder.", e);
        }
    }

    /// <summary>The checkpoint folder with the highest step in a run folder, or null.</summary>
    public static string? FindLatestCheckpoint(string outputDir)
    {
        if (!Directory.Exists(outputDir)) return null;
        return Directory.GetDirectories(outputDir, "checkpoint-*")
            .Where(d => CheckpointWriter.IsTrainerCheckpoint(d) && TryStep(d, out _))
            .OrderBy(d => { TryStep(d, out long s); return s; })
            .LastOrDefault();
    }

    private static bool TryStep(string dir, out long step) =>
        long.TryParse(Path.GetFileName(dir).AsSpan("checkpoint-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out step);

    /// <summary>Runs (or, with <paramref name="resumeFrom"/>, continues) training until the last step or <see cref="TrainerOptions.StopAfterSteps"/>.</summary>
    public TrainingResult Run(string? resumeFrom = null)
    {
        Directory.CreateDirectory(_outputDir);
        using var runLock = LockRun(_outputDir, _outputDir);
        var module = _task.Module;
        module.train();
        using var optimizer = new AdamW(module.named_parameters(), _options.Optimizer);
        long step = 0;
        var evaluations = new List<Evaluation>();
        double elapsedBefore = 0;
        long tokensBefore = 0;
        double lastLoss = double.NaN;
        if (resumeFrom is not null)
        {
            (step, elapsedBefore, tokensBefore, lastLoss) = Resume(resumeFrom, optimizer, evaluations);
        }

        var progress = new ProgressReporter(_log, _interactive, _task.Kind == "mlm" ? "pretrain" : "finetune", TotalSteps, step);
        Losses.Load(_resumedLossHistory, step);
        string resuming = step > 0 ? $", resuming at step {step}" : "";
        string budgetText = _options.MaxBatchTokens is int budget ? $" and {budget} tokens" : "";
        progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"{_task.TrainingLengths.Count} training records, {_plan.BatchesPerEpoch} batches of up to {_options.BatchSize} records{budgetText} per epoch, {TotalSteps} steps x {_options.AccumulationSteps} micro-batches, peak lr {_options.LearningRate:G3}, warm-up {Schedule.WarmupSteps}, {_options.Decay.ToString().ToLowerInvariant()} decay to {_options.MinLearningRate:G3}{resuming}"));
        progress.Message($"weight decay {_options.Optimizer.WeightDecay} on {optimizer.Decayed.Count} tensors; none on {optimizer.NotDecayed.Count} biases and LayerNorm weights");

        string? lastCheckpoint = null;
        long stepsThisRun = 0;
        string bestDir = Path.Combine(_outputDir, BestFolder);
        var best = evaluations.Where(e => _options.SelectBy is { } metric && e.Metrics.TryGetValue(metric, out double v) && double.IsFinite(v))
            .OrderByDescending(e => e[_options.SelectBy!]).ThenBy(e => e.Step).FirstOrDefault();
        if (best is not null && !CheckpointWriter.IsTrainerCheckpoint(bestDir)) best = null;
        long tokensSeen = tokensBefore;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (step < TotalSteps)
        {
            double rate = Schedule.RateAt(step);
            lastLoss = TrainStep(step, optimizer, rate, out long tokens);
            step++;
            stepsThisRun++;
            tokensSeen += tokens;
            progress.Update(step, tokens, lastLoss, rate);

            bool last = step == TotalSteps;
            bool stopNow = _options.StopAfterSteps is long stop && stepsThisRun >= stop && !last;
            Losses.Add(step, lastLoss, rate, flush: last || stopNow || (_options.SaveEvery > 0 && step % _options.SaveEvery == 0));
            if (_options.EvalEvery > 0 && step % _options.EvalEvery == 0 && !last)
            {
                var evaluation = EvaluateNow(step);
                if (evaluation is not null)
                {
                    evaluations.Add(evaluation);
                    progress.Message($"step {step}: held-out {evaluation}");
                    if (Improves(evaluation, best))
                    {
                        best = evaluation;
                        SaveBest(bestDir, step, evaluations, lastLoss, elapsedBefore + clock.Elapsed.TotalSeconds, tokensSeen);
                        progress.Message($"step {step}: best {_options.SelectBy} so far, saved to {bestDir}");
                    }
                }
            }
            if ((_options.SaveEvery > 0 && step % _options.SaveEvery == 0 && !last) || stopNow)
            {
                lastCheckpoint = SaveCheckpoint(step, optimizer, evaluations, lastLoss, elapsedBefore + clock.Elapsed.TotalSeconds, tokensSeen);
                progress.Message($"step {step}: checkpoint {lastCheckpoint}");
            }
            if (stopNow)
            {
                progress.Finish();
                return new TrainingResult(step, TotalSteps, false, evaluations.LastOrDefault(), evaluations, lastLoss, clock.Elapsed, progress.TokensPerSecond, lastCheckpoint, null);
            }
        }
        progress.Finish();

        var final = EvaluateNow(step);
        if (final is not null)
        {
            if (evaluations.Count == 0 || evaluations[^1].Step != step) evaluations.Add(final);
            _log.WriteLine($"{(_task.Kind == "mlm" ? "pretrain" : "finetune")}: final held-out {final}");
        }
        double elapsed = elapsedBefore + clock.Elapsed.TotalSeconds;
        lastCheckpoint = SaveCheckpoint(step, optimizer, evaluations, lastLoss, elapsed, tokensSeen);
        long? selected = null;
        if (_options.SelectBy is { } selectBy)
        {
            if (final is null) throw new InvalidOperationException($"Model selection by '{selectBy}' needs evaluation records.");
            if (!final.Metrics.ContainsKey(selectBy))
            {
                throw new ArgumentException($"Model selection: the evaluations have no metric '{selectBy}' (they have {string.Join(", ", final.Metrics.Keys)}).");
            }
            if (Improves(final, best))
            {
                best = final;
                SaveBest(bestDir, step, evaluations, lastLoss, elapsed, tokensSeen);
            }
            else
            {
                // The best evaluated weights become the final model.
                _task.LoadModel(bestDir);
                _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finetune: final model = step {best!.Step} ({selectBy} {best[selectBy]:0.####} against {final[selectBy]:0.####} at step {step})"));
            }
            final = best;
            selected = best!.Step;
        }
        string finalDir = Path.Combine(_outputDir, FinalFolder);
        CheckpointWriter.WriteDirectoryAtomically(finalDir, temp =>
        {
            _task.SaveModel(temp);
            WriteState(temp, step, evaluations, lastLoss, elapsed, tokensSeen, final: true, selected);
        }, CheckpointWriter.IsTrainerCheckpoint);
        return new TrainingResult(step, TotalSteps, true, final, evaluations, lastLoss, clock.Elapsed, progress.TokensPerSecond, lastCheckpoint, finalDir)
        {
            SelectedStep = selected,
        };
    }

    /// <summary>Whether <paramref name="evaluation"/> beats <paramref name="best"/> on <see cref="TrainerOptions.SelectBy"/> (always, when there is no best yet).</summary>
    private bool Improves(Evaluation evaluation, Evaluation? best)
    {
        if (_options.SelectBy is not { } metric || !evaluation.Metrics.TryGetValue(metric, out double value) || !double.IsFinite(value)) return false;
        return best is null || value > best[metric];
    }

    private void SaveBest(string bestDir, long step, List<Evaluation> evaluations, double lastLoss, double elapsed, long tokensSeen) =>
        CheckpointWriter.WriteDirectoryAtomically(bestDir, temp =>
        {
            _task.SaveModel(temp);
            WriteState(temp, step, evaluations, lastLoss, elapsed, tokensSeen, final: true, step);
        }, CheckpointWriter.IsTrainerCheckpoint);

    private double TrainStep(long step, AdamW optimizer, double rate, out long tokens)
    {
        int accumulation = _options.AccumulationSteps;
        long firstMicroBatch = step * accumulation;
        var batches = new IMicroBatch[accumulation];
        long targets = 0;
        tokens = 0;
        for (int j = 0; j < accumulation; j++)
        {
            long m = firstMicroBatch + j;
            batches[j] = _task.Prepare(_plan.Batch(m), TrainingRandom.For(_options.Seed, TrainingRandom.Streams.Masking, m));
            targets += batches[j].Targets;
            tokens += batches[j].Tokens;
        }
        double normalizer = Math.Max(1, targets);
        optimizer.ZeroGrad();
        double lossSum = 0;
        for (int j = 0; j < accumulation; j++)
        {
            using var scope = NewDisposeScope();
            long m = firstMicroBatch + j;
            torch.random.manual_seed(TrainingRandom.For(_options.Seed, TrainingRandom.Streams.Dropout, m).NextSeed());
            var loss = _task.Loss(batches[j], normalizer);
            loss.backward();
            lossSum += loss.item<float>();
        }
        if (_options.MaxGradNorm > 0) optimizer.ClipGradNorm(_options.MaxGradNorm);
        optimizer.Step(rate);
        return lossSum;
    }

    private Evaluation? EvaluateNow(long step)
    {
        var module = _task.Module;
        module.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return _task.Evaluate(step);
        }
        finally
        {
            module.train();
        }
    }

    private string SaveCheckpoint(long step, AdamW optimizer, List<Evaluation> evaluations, double lastLoss, double elapsed, long tokensSeen)
    {
        string dir = Path.Combine(_outputDir, string.Create(CultureInfo.InvariantCulture, $"checkpoint-{step:D7}"));
        CheckpointWriter.WriteDirectoryAtomically(dir, temp =>
        {
            _task.SaveModel(temp);
            optimizer.Save(Path.Combine(temp, CheckpointWriter.OptimizerFile));
            WriteState(temp, step, evaluations, lastLoss, elapsed, tokensSeen, final: false);
        }, CheckpointWriter.IsTrainerCheckpoint);
        // Keep only the latest few step checkpoints.
        var old = Directory.GetDirectories(_outputDir, "checkpoint-*")
            .Where(d => CheckpointWriter.IsTrainerCheckpoint(d) && TryStep(d, out _))
            .OrderByDescending(d => { TryStep(d, out long s); return s; })
            .Skip(_options.KeepCheckpoints);
        foreach (var d in old) CheckpointWriter.DeleteDirectoryAtomically(d);
        return dir;
    }

    private void WriteState(string dir, long step, List<Evaluation> evaluations, double lastLoss, double elapsed, long tokensSeen, bool final, long? selectedStep = null)
    {
        long microBatches = step * _options.AccumulationSteps;
        var state = new JsonObject
        {
            ["format"] = StateFormat,
            ["version"] = 1,
            ["task"] = _task.Kind,
            ["final"] = final,
            ["step"] = step,
            ["total_steps"] = TotalSteps,
            ["micro_batches_done"] = microBatches,
            ["epoch"] = _plan.Locate(microBatches).Epoch,
            ["batch_in_epoch"] = _plan.Locate(microBatches).Index,
            ["batches_in_first_epoch"] = _plan.BatchesPerEpoch,
            ["max_batch_tokens"] = _options.MaxBatchTokens,
            ["training_records"] = _task.TrainingLengths.Count,
            ["seed"] = _options.Seed,
            ["batch_size"] = _options.BatchSize,
            ["accumulation_steps"] = _options.AccumulationSteps,
            ["learning_rate"] = _options.LearningRate,
            ["min_learning_rate"] = _options.MinLearningRate,
            ["warmup_steps"] = Schedule.WarmupSteps,
            ["decay"] = _options.Decay.ToString().ToLowerInvariant(),
            ["current_learning_rate"] = Schedule.RateAt(Math.Max(0, step - 1)),
            ["weight_decay"] = _options.Optimizer.WeightDecay,
            ["adam_beta1"] = _options.Optimizer.Beta1,
            ["adam_beta2"] = _options.Optimizer.Beta2,
            ["adam_epsilon"] = _options.Optimizer.Epsilon,
            ["max_grad_norm"] = _options.MaxGradNorm,
            ["rng"] = new JsonObject
            {
                ["generator"] = "xoshiro256** seeded by SplitMix64 from (seed, stream, micro-batch); dropout reseeds TorchSharp from the dropout stream",
                ["next_micro_batch"] = microBatches,
                ["next_masking_state"] = TrainingRandom.For(_options.Seed, TrainingRandom.Streams.Masking, microBatches).State,
                ["next_dropout_state"] = TrainingRandom.For(_options.Seed, TrainingRandom.Streams.Dropout, microBatches).State,
            },
            ["last_train_loss"] = double.IsFinite(lastLoss) ? lastLoss : null,
            ["tokens_seen"] = tokensSeen,
            ["elapsed_seconds"] = Math.Round(elapsed, 1),
            ["evaluations"] = new JsonArray(evaluations.Select(e => (JsonNode)e.ToJson()).ToArray()),
            ["loss_history"] = Losses.ToJson(),
        };
        if (_options.SelectBy is { } selectBy)
        {
            state["select_by"] = selectBy;
            state["selected_step"] = selectedStep;
        }
        var settings = new JsonObject();
        foreach (var (key, value) in _task.Settings) settings[key] = value;
        state["task_settings"] = settings;
        if (_options.RunInfo is { } info)
        {
            var run = new JsonObject();
            foreach (var (key, value) in info) run[key] = value;
            state["run"] = run;
        }
        File.WriteAllText(Path.Combine(dir, CheckpointWriter.TrainerStateFile),
            state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", new UTF8Encoding(false));
    }

    private (long Step, double Elapsed, long Tokens, double LastLoss) Resume(string checkpointDir, AdamW optimizer, List<Evaluation> evaluations)
    {
        string path = Path.Combine(checkpointDir, CheckpointWriter.TrainerStateFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{checkpointDir}' has no {CheckpointWriter.TrainerStateFile}; it is not a resumable checkpoint.", path);
        JsonObject state;
        try
        {
            state = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new FormatException($"{path}: empty.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not valid JSON: {e.Message}", e);
        }
        if (state["format"]?.GetValue<string>() != StateFormat) throw new FormatException($"{path}: not an rnalm trainer state.");
        if (state["final"]?.GetValue<bool>() == true) throw new FormatException($"{path}: this is a final model folder without optimizer state; resume from a checkpoint-* folder.");
        void Check<T>(string name, T expected) where T : IEquatable<T>
        {
            var node = state[name] ?? throw new FormatException($"{path}: field '{name}' is missing.");
            T stored = node.GetValue<T>();
            if (!stored.Equals(expected))
            {
                throw new ArgumentException($"Cannot resume from '{checkpointDir}': it was trained with {name} = {stored}, this run has {expected}. Use the same settings (or start a new run).");
            }
        }
        Check("task", _task.Kind);
        Check("seed", _options.Seed);
        Check("batch_size", _options.BatchSize);
        if ((state["max_batch_tokens"]?.GetValue<int>()) != _options.MaxBatchTokens)
        {
            throw new ArgumentException($"Cannot resume from '{checkpointDir}': it was trained with max_batch_tokens = {state["max_batch_tokens"]?.ToJsonString() ?? "null"}, this run has {(_options.MaxBatchTokens?.ToString(CultureInfo.InvariantCulture) ?? "null")}.");
        }
        Check("accumulation_steps", _options.AccumulationSteps);
        Check("total_steps", TotalSteps);
        Check("training_records", _task.TrainingLengths.Count);
        Check("learning_rate", _options.LearningRate);
        Check("warmup_steps", Schedule.WarmupSteps);
        if (state["task_settings"] is JsonObject recorded)
        {
            // Settings that shape training must match; those of evaluation may change, and a state written before a
            // setting existed lacks it.
            foreach (var (key, value) in _task.Settings)
            {
                if (key.StartsWith("evaluation_", StringComparison.Ordinal)) continue;
                if (recorded[key] is JsonValue stored && stored.TryGetValue(out string? text) && text != value)
                {
                    throw new ArgumentException($"Cannot resume from '{checkpointDir}': it was trained with {key} = {text}, this run has {value}. Use the same settings (or start a new run).");
                }
            }
        }
        long step = state["step"]!.GetValue<long>();
        _task.LoadModel(checkpointDir);
        optimizer.Load(Path.Combine(checkpointDir, CheckpointWriter.OptimizerFile));
        if (optimizer.StepCount != step) throw new FormatException($"{checkpointDir}: the optimizer state is at step {optimizer.StepCount}, the trainer state at {step}.");
        _resumedLossHistory = state["loss_history"]?.DeepClone() as JsonArray;
        if (state["evaluations"] is JsonArray list)
        {
            foreach (var item in list) if (item is JsonObject o) evaluations.Add(Evaluation.FromJson(o));
        }
        double elapsed = state["elapsed_seconds"]?.GetValue<double>() ?? 0;
        long tokens = state["tokens_seen"]?.GetValue<long>() ?? 0;
        double lastLoss = state["last_train_loss"]?.GetValue<double>() ?? double.NaN;
        return (step, elapsed, tokens, lastLoss);
    }
}
