using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Training;

/// <summary>
/// Fine-tuning on tiny configurations: labels from nRC headers and dot-bracket, backbone loading with the head missing
/// and lm_head unexpected, FBTH freezing exactly the loaded weights, learning a separable task, token and contact
/// tasks, and fine-tuned folders that load back strictly.
/// </summary>
public sealed class FineTuningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-finetune-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>A tiny pretrained checkpoint folder (2 MLM steps, so its weights are not the initial ones).</summary>
    private string Pretrained(IModelConfig config)
    {
        string run = Path.Combine(_dir, "pretrain");
        Trainer.PrepareOutput(run, resume: false);
        var model = TinyModels.NewModel(config, 2);
        var tokenizer = TinyModels.Tokenizer(config);
        var task = new MlmTrainingTask(model, TinyModels.Family, config, tokenizer, TinyModels.Sequences(16), new List<string>(), new MlmMasker(tokenizer), MaskingScheme.Bert, 1);
        var result = new Trainer(task, new TrainerOptions { BatchSize = 8, MaxSteps = 2 }, run, new StringWriter(), false).Run();
        model.Module.Dispose();
        return result.FinalModel!;
    }

    [Fact]
    public void DotBracketPairsIncludingPseudoknots()
    {
        Assert.Equal(new[] { 5, 4, -1, -1, 1, 0 }, TaskData.PairsOf("((..))"));
        Assert.Equal(new[] { 2, 3, 0, 1 }, TaskData.PairsOf("([)]"));
        Assert.Equal(new[] { 3, -1, 4, 0, 2 }, TaskData.PairsOf("<.A>a"));
        Assert.Throws<FormatException>(() => TaskData.PairsOf("(()"));
        Assert.Throws<FormatException>(() => TaskData.PairsOf("())"));
        var records = SequenceFiles.Read(Fixtures.Data("structure/bprna_ts0.dbn")).Take(50).ToList();
        foreach (var example in TaskData.ForStructure(records))
        {
            for (int i = 0; i < example.Pairs!.Length; i++)
            {
                if (example.Pairs[i] >= 0) Assert.Equal(i, example.Pairs[example.Pairs[i]]);
            }
        }
    }

    [Fact]
    public void NrcClassesAreTheLastHeaderWord()
    {
        var train = SequenceFiles.Read(Fixtures.Data("ncrna/nrc_train.fasta"));
        var (examples, labels) = TaskData.ForSequenceClassification(train);
        Assert.Equal(13, labels.Count);
        Assert.Contains("5S_rRNA", labels);
        Assert.Contains("HACA-box", labels);
        Assert.Equal(train.Count, examples.Count);
        Assert.Equal(labels.ToList().IndexOf("5S_rRNA"), examples[0].Label); // >RF00001_AF095839_1_346-228 5S_rRNA
        var test = SequenceFiles.Read(Fixtures.Data("ncrna/nrc_test.fasta"));
        var (testExamples, _) = TaskData.ForSequenceClassification(test, labels);
        Assert.Equal(13, testExamples.Select(e => e.Label).Distinct().Count());
        var unknown = new List<SequenceRecord> { new("x", "ACGU", null, "riboswitch_X", "test:1") };
        Assert.Throws<FormatException>(() => TaskData.ForSequenceClassification(unknown, labels));
    }

    [Fact]
    public void FbthFreezesTheLoadedBackboneAndTbthTrainsIt()
    {
        var config = TinyModels.Config();
        string pretrained = Pretrained(config);
        var records = FromFasta(Fixtures.Data("ncrna/nrc_train.fasta"), 48);
        var (examples, labels) = TaskData.ForSequenceClassification(records);
        var taskConfig = FineTuning.TaskConfig(TinyModels.Family, config, PredictionTask.Sequence, labels);
        string weights = Path.Combine(pretrained, Checkpoint.WeightsFile);

        foreach (var mode in new[] { FineTuningMode.Fbth, FineTuningMode.Tbth })
        {
            var (model, loaded) = FineTuning.CreateModel(TinyModels.Family, taskConfig, PredictionTask.Sequence, labels.Count, weights, seed: 5);
            // Every backbone tensor came from the checkpoint; the pooler (not in an MLM checkpoint) and the head did not.
            var names = model.Module.named_parameters().Select(p => p.name).ToList();
            Assert.Equal(names.Where(n => n.StartsWith("model.", StringComparison.Ordinal) && !n.StartsWith("model.pooler.", StringComparison.Ordinal)).OrderBy(n => n),
                loaded.OrderBy(n => n));
            using (var file = SafeTensorsFile.Open(weights))
            using (var stored = file.Load("model.embeddings.word_embeddings.weight"))
            {
                Assert.True(Same(stored, model.Module.named_parameters().First(p => p.name == "model.embeddings.word_embeddings.weight").parameter));
            }
            FineTuning.ApplyMode(model, mode, loaded);
            var before = model.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
            var task = new FineTuningTask(model, TinyModels.Family, taskConfig, TinyModels.Tokenizer(config), examples, examples.Take(8).ToList(), labels.Count);
            string run = Path.Combine(_dir, mode.ToString());
            Trainer.PrepareOutput(run, resume: false);
            var result = new Trainer(task, new TrainerOptions { BatchSize = 8, MaxSteps = 3, LearningRate = 1e-2 }, run, new StringWriter(), false).Run();
            foreach (var (name, parameter) in model.Module.named_parameters())
            {
                bool changed = !Same(before[name], parameter);
                bool shouldChange = mode == FineTuningMode.Tbth || !loaded.Contains(name);
                Assert.True(changed == shouldChange, $"{mode}: {name} changed={changed}");
            }
            Assert.Equal(new[] { "loss", "accuracy", "macro_f1", "mcc", "examples" }, result.FinalEvaluation!.Metrics.Keys);

            // The fine-tuned folder loads back strictly and computes the same logits.
            using var reloaded = FineTuning.Load(result.FinalModel!, ModelCatalog.Registry);
            Assert.Equal(PredictionTask.Sequence, reloaded.Task);
            Assert.Equal(labels, reloaded.Labels);
            model.Module.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (ids, mask) = reloaded.Tokenizer.EncodeBatch(new[] { "GGGACUUCC", "ACGUAGCAUG" }, new Tokenization.EncodeOptions { Padding = Tokenization.PaddingStrategy.Longest }).ToTensors();
            Assert.True(Same(model.Forward(ids, mask).Logits, reloaded.Model.Forward(ids, mask).Logits));
            model.Module.Dispose();
        }
    }

    [Fact]
    public void ASeparableSequenceTaskIsLearned()
    {
        // Class 0: A/U-rich, class 1: G/C-rich random sequences. A working fine-tuning loop separates them quickly.
        var random = new TrainingRandom(3);
        string Make(string letters) => new(Enumerable.Range(0, 30).Select(_ => random.Bernoulli(0.85) ? letters[random.Next(2)] : "ACGU"[random.Next(4)]).ToArray());
        var examples = Enumerable.Range(0, 96).Select(i => new LabelledSequence($"s{i}", i % 2 == 0 ? Make("AU") : Make("GC"), i % 2, null)).ToList();
        var config = TinyModels.Config();
        var taskConfig = FineTuning.TaskConfig(TinyModels.Family, config, PredictionTask.Sequence, new[] { "au", "gc" });
        var (model, loaded) = FineTuning.CreateModel(TinyModels.Family, taskConfig, PredictionTask.Sequence, 2, null, seed: 1);
        Assert.Empty(loaded);
        FineTuning.ApplyMode(model, FineTuningMode.Tbth, loaded);
        var task = new FineTuningTask(model, TinyModels.Family, taskConfig, TinyModels.Tokenizer(config), examples.Take(64).ToList(), examples.Skip(64).ToList(), 2);
        var before = task.EvaluateOn(examples.Skip(64).ToList(), 0, 16);
        string run = Path.Combine(_dir, "separable");
        Trainer.PrepareOutput(run, resume: false);
        var result = new Trainer(task, new TrainerOptions { BatchSize = 16, MaxSteps = 40, LearningRate = 3e-3 }, run, new StringWriter(), false).Run();
        Assert.True(result.FinalEvaluation!["accuracy"] >= 0.9, $"accuracy {result.FinalEvaluation["accuracy"]} (before: {before["accuracy"]})");
        Assert.True(result.FinalEvaluation["mcc"] >= 0.8);
        model.Module.Dispose();
    }

    [Fact]
    public void TokenAndContactTasksTrainAndReportMetrics()
    {
        var config = TinyModels.Config();
        string pretrained = Pretrained(config);
        var records = SequenceFiles.Read(Fixtures.Data("structure/bprna_ts0.dbn")).Where(r => r.Sequence.Length <= 60).Take(24).ToList();
        var examples = TaskData.ForStructure(records);
        foreach (var (task, labels) in new[] { (PredictionTask.Token, new[] { "unpaired", "paired" }), (PredictionTask.Contact, new[] { "paired" }) })
        {
            var taskConfig = FineTuning.TaskConfig(TinyModels.Family, config, task, labels);
            int outputs = FineTuning.NumLabels(task, labels.Length);
            var (model, loaded) = FineTuning.CreateModel(TinyModels.Family, taskConfig, task, outputs, Path.Combine(pretrained, Checkpoint.WeightsFile), 3);
            FineTuning.ApplyMode(model, FineTuningMode.Tbth, loaded);
            var fineTuning = new FineTuningTask(model, TinyModels.Family, taskConfig, TinyModels.Tokenizer(config), examples.Take(16).ToList(), examples.Skip(16).ToList(), outputs);
            string run = Path.Combine(_dir, task.ToString());
            Trainer.PrepareOutput(run, resume: false);
            var result = new Trainer(fineTuning, new TrainerOptions { BatchSize = 4, MaxSteps = 4, LearningRate = 3e-3 }, run, new StringWriter(), false).Run();
            var metrics = result.FinalEvaluation!;
            Assert.True(double.IsFinite(metrics["loss"]) && metrics["loss"] > 0);
            Assert.InRange(metrics["accuracy"], 0, 1);
            Assert.InRange(metrics["mcc"], -1, 1);
            if (task == PredictionTask.Contact)
            {
                Assert.Contains("precision", metrics.Metrics.Keys);
                Assert.Contains("recall", metrics.Metrics.Keys);
                // Pairs i < j of every evaluation record, each counted once.
                long pairs = examples.Skip(16).Sum(e => (long)e.Sequence.Length * (e.Sequence.Length - 1) / 2);
                Assert.True(pairs > 0);
            }
            Assert.True(double.IsFinite(result.LastTrainLoss));
            model.Module.Dispose();
        }
    }

    private static List<SequenceRecord> FromFasta(string path, int count) =>
        SequenceFiles.Read(path).OrderBy(r => HeldOutSplit.Hash(r.Name)).Take(count)
            .Select(r => r with { Sequence = r.Sequence.Length > 60 ? r.Sequence[..60] : r.Sequence }).ToList();
}
