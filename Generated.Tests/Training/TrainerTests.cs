using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using AdamW = RnaLm.Training.AdamW;

namespace RnaLm.Tests.Training;

/// <summary>
/// The trainer on tiny rnalm-mini configurations: exact resume, checkpoints the loader reads, folder safety, the
/// optimizer against TorchSharp's AdamW, the schedule, clipping and flat native memory.
/// </summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-trainer-tests-").FullName;
    private readonly ITestOutputHelper _output;

    public TrainerTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MlmTrainingTask MakeTask(IRnaMaskedLM model, IModelConfig config, List<string> train, List<string> heldOut) =>
        new(model, TinyModels.Family, config, TinyModels.Tokenizer(config), train, heldOut, new MlmMasker(TinyModels.Tokenizer(config)), MaskingScheme.Bert, 7);

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    private static Dictionary<string, Tensor> Weights(string folder) => SafeTensors.LoadAll(Path.Combine(folder, Checkpoint.WeightsFile));

    [Fact]
    public void InterruptedAndResumedRunEndsWithExactlyTheSameWeights()
    {
        var config = TinyModels.Config(dropout: 0.1); // dropout on: its random state must resume too
        var train = TinyModels.Sequences(40);
        var heldOut = TinyModels.Sequences(8, skip: 40);
        var options = new TrainerOptions { Seed = 11, BatchSize = 4, AccumulationSteps = 2, MaxSteps = 9, LearningRate = 3e-3, WarmupSteps = 2, EvalEvery = 4 };
        var log = new StringWriter();

        string straight = Path.Combine(_dir, "straight");
        Trainer.PrepareOutput(straight, resume: false);
        var a = TinyModels.NewModel(config, 1);
        var resultA = new Trainer(MakeTask(a, config, train, heldOut), options, straight, log, false).Run();
        Assert.True(resultA.Completed);

        string interrupted = Path.Combine(_dir, "interrupted");
        Trainer.PrepareOutput(interrupted, resume: false);
        var b = TinyModels.NewModel(config, 1);
        var partial = new Trainer(MakeTask(b, config, train, heldOut), options with { StopAfterSteps = 5 }, interrupted, log, false).Run();
        Assert.False(partial.Completed);
        Assert.Equal(5, partial.Steps);
        string checkpoint = Trainer.FindLatestCheckpoint(interrupted)!;
        Assert.EndsWith("checkpoint-0000005", checkpoint);

        // A new process would start from a fresh (differently initialised) model: the checkpoint must restore everything.
        Assert.Throws<IOException>(() => Trainer.PrepareOutput(interrupted, resume: false));
        Trainer.PrepareOutput(interrupted, resume: true);
        var c = TinyModels.NewModel(config, 999);
        var resultC = new Trainer(MakeTask(c, config, train, heldOut), options, interrupted, log, false).Run(checkpoint);
        Assert.True(resultC.Completed);
        Assert.Equal(9, resultC.Steps);

        var expected = Weights(resultA.FinalModel!);
        var actual = Weights(resultC.FinalModel!);
        var midway = Weights(checkpoint);
        Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
        foreach (var (key, tensor) in expected)
        {
            Assert.True(Same(tensor, actual[key]), $"{key} differs after resuming");
        }
        Assert.Contains(expected, kv => !Same(kv.Value, midway[kv.Key])); // the last four steps did change the weights
        Assert.Equal(resultA.Evaluations.Select(e => e.ToString()), resultC.Evaluations.Select(e => e.ToString()));
        Assert.Equal(resultA.LastTrainLoss, resultC.LastTrainLoss);
        foreach (var t in expected.Values.Concat(actual.Values).Concat(midway.Values)) t.Dispose();
    }

    [Fact]
    public void CheckpointsLoadWithCheckpointLoadAndOmitTiedKeys()
    {
        var config = TinyModels.Config();
        var model = TinyModels.NewModel(config, 3);
        string run = Path.Combine(_dir, "run");
        Trainer.PrepareOutput(run, resume: false);
        var result = new Trainer(MakeTask(model, config, TinyModels.Sequences(16), TinyModels.Sequences(4, skip: 16)),
            new TrainerOptions { BatchSize = 4, MaxSteps = 3, SaveEvery = 1, KeepCheckpoints = 2 }, run, new StringWriter(), false).Run();

        // Only the two latest step checkpoints are kept; each holds the loader's files plus the resumable state.
        Assert.Equal(new[] { "checkpoint-0000002", "checkpoint-0000003" }, Directory.GetDirectories(run, "checkpoint-*").Select(Path.GetFileName).OrderBy(n => n));
        foreach (string file in new[] { "config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors", "trainer_state.json", "optimizer.safetensors" })
        {
            Assert.True(File.Exists(Path.Combine(result.LastCheckpoint!, file)), file);
        }
        Assert.False(File.Exists(Path.Combine(result.FinalModel!, CheckpointWriter.OptimizerFile)));
        Assert.Empty(Directory.GetDirectories(run, ".*")); // no temporary folders left

        using (var file = SafeTensorsFile.Open(Path.Combine(result.FinalModel!, Checkpoint.WeightsFile)))
        {
            Assert.False(file.Contains("lm_head.decoder.weight"));
            Assert.False(file.Contains("lm_head.decoder.bias"));
            Assert.True(file.Contains("model.embeddings.word_embeddings.weight"));
            Assert.True(file.Contains("lm_head.bias"));
        }

        using var loaded = Checkpoint.Load(result.FinalModel!, ModelCatalog.Registry);
        Assert.Equal("rnalm-mini", loaded.Config.ModelType);
        Assert.Equal(16, loaded.Config.HiddenSize);
        Assert.Equal(64, loaded.Tokenizer.Options.ModelMaxLength);
        model.Module.eval();
        using var scope = NewDisposeScope();
        var (ids, mask) = loaded.Tokenizer.EncodeBatch(new[] { "ACGU<mask>GGAC", "UUAGC" }, new Tokenization.EncodeOptions { Padding = Tokenization.PaddingStrategy.Longest }).ToTensors();
        using var noGrad = no_grad();
        var expected = model.Forward(ids, mask).Logits;
        var actual = loaded.Model.Forward(ids, mask).Logits;
        Assert.True(Same(expected, actual), "the reloaded model computes different logits");
    }

    [Fact]
    public void OutputFoldersOfUsersAreNeverOverwritten()
    {
        string user = Path.Combine(_dir, "user");
        Directory.CreateDirectory(user);
        File.WriteAllText(Path.Combine(user, "notes.txt"), "mine");
        var e = Assert.Throws<IOException>(() => Trainer.PrepareOutput(user, resume: false));
        Assert.Contains("not an rnalm training folder", e.Message);
        Assert.Throws<IOException>(() => CheckpointWriter.WriteDirectoryAtomically(user, _ => { }, CheckpointWriter.IsTrainerCheckpoint));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(user, "notes.txt")));

        // A failed write leaves neither the target nor a temporary folder behind.
        string target = Path.Combine(_dir, "target");
        Assert.Throws<InvalidOperationException>(() => CheckpointWriter.WriteDirectoryAtomically(target, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "half"), "x");
            throw new InvalidOperationException("disk full");
        }, CheckpointWriter.IsTrainerCheckpoint));
        Assert.False(Directory.Exists(target));
        Assert.Single(Directory.GetFileSystemEntries(_dir)); // only "user"

        // An earlier checkpoint (with a trainer state) is replaced as a whole.
        CheckpointWriter.WriteDirectoryAtomically(target, temp => File.WriteAllText(Path.Combine(temp, CheckpointWriter.TrainerStateFile), "1"), CheckpointWriter.IsTrainerCheckpoint);
        CheckpointWriter.WriteDirectoryAtomically(target, temp => File.WriteAllText(Path.Combine(temp, CheckpointWriter.TrainerStateFile), "2"), CheckpointWriter.IsTrainerCheckpoint);
        Assert.Equal("2", File.ReadAllText(Path.Combine(target, CheckpointWriter.TrainerStateFile)));
        Assert.Equal(2, Directory.GetFileSystemEntries(_dir).Length);
    }

    [Fact]
    public void ScheduleWarmsUpLinearlyThenDecaysToTheMinimum()
    {
        var linear = new LearningRateSchedule(1e-3, 1e-5, 10, 110);
        Assert.Equal(1e-4, linear.RateAt(0), 12);
        Assert.Equal(1e-3, linear.RateAt(9), 12);
        Assert.Equal(1e-3, linear.RateAt(10), 12);
        Assert.Equal(1e-5 + (1e-3 - 1e-5) * 0.5, linear.RateAt(60), 12);
        Assert.Equal(1e-5, linear.RateAt(110), 12);
        Assert.Equal(1e-5, linear.RateAt(500), 12);
        var cosine = linear with { Decay = DecayKind.Cosine };
        Assert.Equal(1e-5 + (1e-3 - 1e-5) * 0.5, cosine.RateAt(60), 12);
        Assert.Equal(1e-5 + (1e-3 - 1e-5) * (0.5 * (1 + Math.Cos(Math.PI * 0.25))), cosine.RateAt(35), 12);
    }

    [Fact]
    public void AdamWMatchesTorchSharpsAdamWAndSkipsDecayOnBiasesAndLayerNorms()
    {
        static (Linear Linear, LayerNorm Norm) Build()
        {
            torch.random.manual_seed(5);
            return (nn.Linear(6, 4), nn.LayerNorm(4));
        }
        static Tensor Loss(Linear linear, LayerNorm norm, Tensor x) => norm.call(linear.call(x)).square().mean() + linear.call(x).sum() * 0.1;

        var (mineLinear, mineNorm) = Build();
        var (refLinear, refNorm) = Build();
        var named = mineLinear.named_parameters().Select(p => ("dense." + p.name, p.parameter))
            .Concat(mineNorm.named_parameters().Select(p => ("layer_norm." + p.name, p.parameter))).ToList();
        var options = new AdamWOptions { Beta1 = 0.9, Beta2 = 0.98, Epsilon = 1e-6, WeightDecay = 0.1 };
        using var mine = new AdamW(named, options);
        Assert.Equal(new[] { "dense.weight" }, mine.Decayed);
        Assert.Equal(new[] { "dense.bias", "layer_norm.weight", "layer_norm.bias" }, mine.NotDecayed);

        var decayed = torch.optim.AdamW(new[] { refLinear.weight! }, 0.01, 0.9, 0.98, 1e-6, 0.1);
        var plain = torch.optim.AdamW(new[] { refLinear.bias!, refNorm.weight!, refNorm.bias! }, 0.01, 0.9, 0.98, 1e-6, 0.0);
        torch.random.manual_seed(9);
        var inputs = Enumerable.Range(0, 5).Select(_ => torch.randn(3, 6)).ToList();
        foreach (var x in inputs)
        {
            mine.ZeroGrad();
            Loss(mineLinear, mineNorm, x).backward();
            mine.Step(0.01);
            decayed.zero_grad();
            plain.zero_grad();
            Loss(refLinear, refNorm, x).backward();
            decayed.step();
            plain.step();
        }
        Assert.True(mineLinear.weight!.allclose(refLinear.weight!, rtol: 1e-5, atol: 1e-7));
        Assert.True(mineLinear.bias!.allclose(refLinear.bias!, rtol: 1e-5, atol: 1e-7));
        Assert.True(mineNorm.weight!.allclose(refNorm.weight!, rtol: 1e-5, atol: 1e-7));
        Assert.Equal(5, mine.StepCount);

        // The state survives a save/load round trip exactly.
        string path = Path.Combine(_dir, "optimizer.safetensors");
        mine.Save(path);
        var (otherLinear, otherNorm) = Build();
        using var restored = new AdamW(otherLinear.named_parameters().Select(p => ("dense." + p.name, p.parameter))
            .Concat(otherNorm.named_parameters().Select(p => ("layer_norm." + p.name, p.parameter))), options);
        restored.Load(path);
        Assert.Equal(5, restored.StepCount);
        using var wrong = new AdamW(otherNorm.named_parameters().Select(p => ("other." + p.name, p.parameter)), options);
        Assert.Throws<FormatException>(() => wrong.Load(path));
    }

    [Fact]
    public void GradientClippingScalesTheGlobalNorm()
    {
        var a = new Parameter(torch.zeros(2));
        var b = new Parameter(torch.zeros(1));
        (a * torch.tensor(new float[] { 3, 0 })).sum().backward();
        (b * torch.tensor(new float[] { 4 })).sum().backward();
        using var optimizer = new AdamW(new[] { ("a", a), ("b", b) });
        Assert.Equal(5.0, optimizer.ClipGradNorm(1.0), 5);
        Assert.Equal(1.0, Math.Sqrt(a.grad!.square().sum().item<float>() + b.grad!.square().sum().item<float>()), 4);
        Assert.Equal(1.0, optimizer.ClipGradNorm(2.0), 4); // below the limit: unchanged
    }

    [Fact]
    public void NativeMemoryStaysFlatOver200Steps()
    {
        // Real lengths (up to 300 nt): every step allocates differently sized activations, the case where a heap that
        // only grows would show. A step's activations are several MB, so leaking them would add hundreds of MB.
        var config = TinyModels.Config(hidden: 32, layers: 1, heads: 2, intermediate: 64, maxPositions: 320);
        var model = TinyModels.NewModel(config, 4);
        var train = TinyModels.Sequences(128, maxLength: 300);
        var task = MakeTask(model, config, train, new List<string>());
        string run = Path.Combine(_dir, "memory");
        Trainer.PrepareOutput(run, resume: false);

        static long Rss()
        {
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            using var process = Process.GetCurrentProcess();
            return process.WorkingSet64;
        }

        var options = new TrainerOptions { BatchSize = 6, MaxSteps = 250, StopAfterSteps = 50, SaveEvery = 0 };
        var warmup = new Trainer(task, options, run, new StringWriter(), false).Run();
        Assert.Equal(50, warmup.Steps);
        long before = Rss();
        var rest = new Trainer(task, options with { StopAfterSteps = null }, run, new StringWriter(), false).Run(warmup.LastCheckpoint);
        Assert.Equal(250, rest.Steps);
        long after = Rss();
        double growthMb = (after - before) / (1024.0 * 1024.0);
        _output.WriteLine($"RSS after warm-up {before / 1048576.0:F1} MB, after 200 more steps {after / 1048576.0:F1} MB, growth {growthMb:F1} MB");
        Assert.True(growthMb < 40, $"RSS grew by {growthMb:F1} MB over 200 training steps (bound 40 MB)");
    }

    [Fact]
    public void TiedWeightsAreOptimizedOnce()
    {
        var config = TinyModels.Config();
        var model = TinyModels.NewModel(config, 1);
        using var optimizer = new AdamW(model.Module.named_parameters());
        var names = optimizer.Decayed.Concat(optimizer.NotDecayed).ToList();
        Assert.Contains("model.embeddings.word_embeddings.weight", names);
        Assert.DoesNotContain("lm_head.decoder.weight", names);
        Assert.DoesNotContain("lm_head.decoder.bias", names);
        long h = config.HiddenSize;
        long expected = config.CountBackboneParameters() - (h * h + h) // no pooler in the pretraining model
            + (h * h + h) + 2 * h + config.VocabSize;                  // lm_head transform, its LayerNorm, output bias
        Assert.Equal(expected, ModelSetup.CountParameters(model.Module));
        Assert.Equal(expected, optimizer.Parameters.Sum(p => p.numel()));
    }

    [Fact]
    public void EvaluationDoesNotDependOnTheBatchSize()
    {
        var config = TinyModels.Config();
        var model = TinyModels.NewModel(config, 8);
        var tokenizer = TinyModels.Tokenizer(config);
        var sequences = TinyModels.Sequences(30, maxLength: 200); // some longer than the 64 positions: cut, not rejected
        var one = MlmEvaluator.Evaluate(model, tokenizer, sequences, seed: 3, batchSize: 1);
        var seven = MlmEvaluator.Evaluate(model, tokenizer, sequences, seed: 3, batchSize: 7);
        var other = MlmEvaluator.Evaluate(model, tokenizer, sequences, seed: 4, batchSize: 7);
        Assert.Equal(one.MaskedTokens, seven.MaskedTokens);
        Assert.Equal(one.Accuracy, seven.Accuracy, 6);
        Assert.Equal(one.Loss, seven.Loss, 4);
        Assert.Equal(one.BaselineAccuracy, seven.BaselineAccuracy);
        Assert.NotEqual(one.MaskedTokens, other.MaskedTokens);
        Assert.InRange(one.MaskedTokens, (long)(0.10 * 30 * 62), (long)(0.20 * 30 * 62));
        Assert.InRange(one.BaselineAccuracy, 0.25, 0.6);
    }

    [Fact]
    public void HeldOutSplitIsAStableHashOfTheName()
    {
        Assert.Equal(0xaf63dc4c8601ec8cUL, HeldOutSplit.Hash("a")); // FNV-1a 64 reference value
        var names = SequenceFiles.Read(Fixtures.Data("pretraining/bprna_tr0.dbn")).Select(r => r.Name).ToList();
        int held = names.Count(n => HeldOutSplit.IsHeldOut(n, 0.05));
        Assert.InRange(held / (double)names.Count, 0.04, 0.06);
        Assert.Equal(held, names.AsEnumerable().Reverse().Count(n => HeldOutSplit.IsHeldOut(n, 0.05)));
        Assert.All(names.Where(n => HeldOutSplit.IsHeldOut(n, 0.05)), n => Assert.True(HeldOutSplit.IsHeldOut(n, 0.10)));
    }

    [Fact]
    public void BatchPlanVisitsEveryRecordOncePerEpochInASeededOrder()
    {
        var lengths = Enumerable.Range(0, 103).Select(i => 10 + (i * 37) % 90).ToArray();
        var plan = new BatchPlan(lengths, 8, seed: 1);
        Assert.Equal(13, plan.BatchesPerEpoch);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var seen = Enumerable.Range(epoch * 13, 13).SelectMany(m => plan.Batch(m)).OrderBy(i => i).ToArray();
            Assert.Equal(Enumerable.Range(0, 103), seen);
        }
        Assert.Equal(plan.Batch(5), new BatchPlan(lengths, 8, seed: 1).Batch(5));
        Assert.NotEqual(plan.Epoch(0).Select(b => b[0]), plan.Epoch(1).Select(b => b[0]));
    }
}
