using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Tests.Cli;
using RnaLm.Tokenization;
using RnaLm.Training;
using Xunit;

namespace RnaLm.Tests.Training;

/// <summary>
/// Structure tasks are imbalanced (base pairs are a fraction of a percent of the nucleotide pairs): the weight of the
/// paired targets in the loss, and the probability at which the metrics count a pair, are the user's to set.
/// </summary>
public sealed class PairedWeightTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-paired-weight-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A tiny structure model of <paramref name="task"/> (token or contact), six short TS0 records, and the fine-tuning
    /// task on them with a given positive weight and threshold.
    /// </summary>
    private sealed class Setup : IDisposable
    {
        public Setup(PredictionTask task)
        {
            var config = TinyModels.Config();
            string[] labels = task == PredictionTask.Token ? new[] { "unpaired", "paired" } : new[] { "paired" };
            Config = FineTuning.TaskConfig(TinyModels.Family, config, task, labels);
            Outputs = FineTuning.NumLabels(task, labels.Length);
            (Model, _) = FineTuning.CreateModel(TinyModels.Family, Config, task, Outputs, null, seed: 4);
            Model.Module.eval();
            Tokenizer = TinyModels.Tokenizer(config);
            Examples = TaskData.ForStructure(SequenceFiles.Read(Fixtures.Data("structure/bprna_ts0.dbn")).Where(r => r.Sequence.Length <= 50).Take(6).ToList());
        }

        public IRnaPredictionModel Model { get; }
        public IModelConfig Config { get; }
        public int Outputs { get; }
        public RnaTokenizer Tokenizer { get; }
        public List<LabelledSequence> Examples { get; }

        public FineTuningTask Task(double positiveWeight = 1, double threshold = 0.5) =>
            new(Model, TinyModels.Family, Config, Tokenizer, Examples, Examples, Outputs, positiveWeight: positiveWeight, threshold: threshold);

        public void Dispose() => Model.Module.Dispose();
    }

    [Theory]
    [InlineData(PredictionTask.Token)]
    [InlineData(PredictionTask.Contact)]
    public void ThePositiveWeightMultipliesTheLossOfThePairedTargetsOnly(PredictionTask kind)
    {
        using var setup = new Setup(kind);
        double Loss(double weight)
        {
            var task = setup.Task(positiveWeight: weight);
            var batch = task.Prepare(Enumerable.Range(0, setup.Examples.Count).ToArray(), new TrainingRandom(1));
            using var loss = task.Loss(batch, 1);
            return loss.item<float>();
        }
        // The loss is (unpaired terms) + W·(paired terms): linear in W, growing with it.
        double one = Loss(1), three = Loss(3), five = Loss(5);
        Assert.True(three > one && five > three, $"{one}, {three}, {five}");
        Assert.Equal(2 * (three - one), five - one, 1e-3 * five);
        // The paired terms are a small share of the unweighted loss, as the structures' pairs are of all targets.
        Assert.True(three - one < one, $"paired terms {(three - one) / 2} of {one}");
    }

    [Theory]
    [InlineData(PredictionTask.Token)]
    [InlineData(PredictionTask.Contact)]
    public void TheThresholdDecidesWhatTheMetricsCountAsPaired(PredictionTask kind)
    {
        using var setup = new Setup(kind);
        var examples = setup.Examples;
        Evaluation At(double threshold) => setup.Task(threshold: threshold).EvaluateOn(examples, 0, 8);
        var everything = At(1e-9);
        var nothing = At(1);
        var middle = At(0.5);
        if (kind == PredictionTask.Token)
        {
            // Everything paired: accuracy is the share of paired nucleotides; nothing paired: the share of unpaired ones.
            double paired = examples.Sum(e => e.Pairs!.Count(p => p >= 0)) / (double)examples.Sum(e => e.Sequence.Length);
            Assert.Equal(paired, everything["accuracy"], 1e-9);
            Assert.Equal(1 - paired, nothing["accuracy"], 1e-9);
        }
        else
        {
            Assert.Equal(1, everything["recall"]);
            Assert.Equal(0, nothing["recall"]);
            Assert.Equal(0, nothing["structure_recall_overall"]);
        }
        Assert.Equal(middle["loss"], everything["loss"]); // the loss does not depend on the threshold
    }

    [Fact]
    public void TheCommandLineRefusesTheOptionsWhereTheyMeanNothingAndAResumeWithAnotherWeight()
    {
        string fasta = Path.Combine(_dir, "classes.fasta");
        File.WriteAllText(fasta, ">a x\nACGUACGU\n>b y\nGGCCGGCC\n");
        CliHarness.AssertCleanError(CliHarness.Rnalm("finetune", "--task", "sequence", "--train", fasta, "--output", Path.Combine(_dir, "seq"), "--positive-weight", "5"), 2, "--positive-weight");
        CliHarness.AssertCleanError(CliHarness.Rnalm("finetune", "--task", "contact", "--train", fasta, "--output", Path.Combine(_dir, "zero"), "--positive-weight", "0"), 2, "--positive-weight");
        CliHarness.AssertCleanError(CliHarness.Rnalm("evaluate", "--input", fasta, "--threshold", "0.3"), 2, "--threshold");

        var records = SequenceFiles.Read(Fixtures.Data("structure/bprna_vl0.dbn")).Where(r => r.Sequence.Length <= 40).Take(8).ToList();
        string dbn = Path.Combine(_dir, "train.dbn");
        File.WriteAllLines(dbn, records.SelectMany(r => new[] { ">" + r.Name, r.Sequence, r.Structure! }));
        string run = Path.Combine(_dir, "contact");
        string[] Args(string weight) => new[] { "finetune", "--task", "contact", "--train", dbn, "--output", run, "--steps", "2", "--batch-size", "4", "--save-every", "1", "--positive-weight", weight };
        CliHarness.Succeeds(Args("20").Concat(new[] { "--stop-after", "1" }).ToArray());
        var refused = CliHarness.Rnalm(Args("30").Append("--resume").ToArray());
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("rnalm: error: Cannot resume", refused.Err);
        Assert.Contains("positive_weight = 20, this run has 30", refused.Err);
        var finished = CliHarness.Succeeds(Args("20").Append("--resume").ToArray());
        Assert.Contains("resuming at step 1", finished.Err);

        var evaluated = CliHarness.Succeeds("evaluate", "--task", "contact", "--checkpoint", Path.Combine(run, "final"), "--input", dbn, "--threshold", "0.25", "--json");
        Assert.Contains("paired at probability 0.25", evaluated.Err);
    }
}
