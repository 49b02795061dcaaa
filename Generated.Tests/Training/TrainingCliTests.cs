using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnaLm.Cli;
using RnaLm.Structure;
using RnaLm.Training;
using Xunit;

namespace RnaLm.Tests.Training;

/// <summary>
/// <c>rnalm pretrain</c>, <c>finetune</c> and <c>evaluate</c> in process on tiny configurations, and the built-in
/// default model: fill-mask, embed and evaluate without --checkpoint, and its masked-nucleotide accuracy margin on the
/// held-out split.
/// </summary>
public sealed class TrainingCliTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("rnalm-training-cli-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private sealed record Result(int ExitCode, string Out, string Err);

    private static Result Rnalm(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    private static Result Succeeds(params string[] args)
    {
        var result = Rnalm(args);
        Assert.True(result.ExitCode == 0, $"rnalm {string.Join(' ', args)} exited with {result.ExitCode}: {result.Err}");
        return result;
    }

    private static readonly string[] Tiny = { "--hidden", "16", "--layers", "1", "--heads", "2", "--intermediate", "32", "--max-positions", "96" };

    private string SmallDbn(int count, int skip = 0)
    {
        var records = SequenceFiles.Read(Fixtures.Data("pretraining/bprna_tr0.dbn")).Skip(skip).Take(count);
        string path = Path.Combine(_temp, $"small-{skip}-{count}.dbn");
        File.WriteAllLines(path, records.SelectMany(r => new[] { ">" + r.Name, r.Sequence[..Math.Min(80, r.Sequence.Length)], r.Structure![..Math.Min(80, r.Structure!.Length)] }));
        return path;
    }

    [Fact]
    public void EveryTrainingCommandHasHelp()
    {
        foreach (var (command, mentions) in new[]
        {
            ("pretrain", new[] { "--train", "--output", "--masking", "--motifs", "--resume", "--lr", "--warmup", "--max-grad-norm", "--accumulate", "--held-out" }),
            ("finetune", new[] { "--task", "--mode", "--from-scratch", "--checkpoint", "--eval" }),
            ("evaluate", new[] { "--task", "--input", "--checkpoint", "--seed", "--json", "--split" }),
            ("predict", new[] { "--checkpoint", "--input", "--json", "--threshold", "--batch-size" }),
        })
        {
            var result = Succeeds(command, "--help");
            foreach (string mention in mentions) Assert.Contains(mention, result.Out);
        }
    }

    [Fact]
    public void PretrainResumeAndEvaluateThroughTheCommandLine()
    {
        string data = SmallDbn(40);
        string run = Path.Combine(_temp, "run");
        var common = new[] { "pretrain", "--train", data, "--output", run, "--steps", "6", "--batch-size", "8", "--held-out", "0.2", "--seed", "3" }.Concat(Tiny).ToArray();
        var partial = Succeeds(common.Concat(new[] { "--stop-after", "2" }).ToArray());
        using (var doc = JsonDocument.Parse(partial.Out))
        {
            Assert.False(doc.RootElement.GetProperty("completed").GetBoolean());
            Assert.Equal(2, doc.RootElement.GetProperty("steps").GetInt32());
        }
        // Without --resume the folder of an earlier run is refused; with it the run completes.
        var refused = Rnalm(common);
        Assert.Equal(ExitCodes.Failure, refused.ExitCode);
        Assert.Contains("--resume", refused.Err);
        var done = Succeeds(common.Concat(new[] { "--resume" }).ToArray());
        Assert.Contains("resuming at step 2", done.Err);
        string final = Path.Combine(run, "final");
        using (var doc = JsonDocument.Parse(done.Out))
        {
            Assert.True(doc.RootElement.GetProperty("completed").GetBoolean());
            Assert.Equal(final, doc.RootElement.GetProperty("final_model").GetString());
            Assert.True(doc.RootElement.GetProperty("held_out").GetProperty("tokens").GetInt32() > 0);
        }

        var evaluation = Succeeds("evaluate", "--task", "mlm", "--input", data, "--checkpoint", final, "--split", "held-out", "--held-out", "0.2", "--seed", "3", "--json");
        using (var doc = JsonDocument.Parse(evaluation.Out))
        {
            Assert.Equal(new[] { "accuracy", "baseline_accuracy", "loss", "tokens" }, doc.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.InRange(doc.RootElement.GetProperty("accuracy").GetDouble(), 0, 1);
            Assert.InRange(doc.RootElement.GetProperty("baseline_accuracy").GetDouble(), 0.25, 1);
            Assert.True(doc.RootElement.GetProperty("tokens").GetInt32() > 0);
        }
        // The same seed and records give the same numbers at another batch size (the padded shapes differ, so the
        // mean loss may differ in float32 rounding only); fill-mask reads the trained folder.
        var rebatched = Succeeds("evaluate", "--input", data, "--checkpoint", final, "--split", "held-out", "--held-out", "0.2", "--seed", "3", "--json", "--batch-size", "3");
        using (var first = JsonDocument.Parse(evaluation.Out))
        using (var second = JsonDocument.Parse(rebatched.Out))
        {
            foreach (string exact in new[] { "accuracy", "baseline_accuracy", "tokens" })
            {
                Assert.Equal(first.RootElement.GetProperty(exact).GetDouble(), second.RootElement.GetProperty(exact).GetDouble());
            }
            double loss = first.RootElement.GetProperty("loss").GetDouble();
            Assert.Equal(loss, second.RootElement.GetProperty("loss").GetDouble(), 1e-5 * Math.Abs(loss) + 1e-6);
        }
        Succeeds("fill-mask", "--checkpoint", final, "ACGU<mask>GGAC");
    }

    [Fact]
    public void PretrainRefusesAFolderThatIsNotARun()
    {
        string user = Path.Combine(_temp, "mine");
        Directory.CreateDirectory(user);
        File.WriteAllText(Path.Combine(user, "thesis.tex"), "keep");
        var result = Rnalm(new[] { "pretrain", "--train", SmallDbn(10), "--output", user, "--steps", "1" }.Concat(Tiny).ToArray());
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.StartsWith("rnalm: error: ", result.Err);
        Assert.Contains("not an rnalm training folder", result.Err);
        Assert.Equal(new[] { "thesis.tex" }, Directory.GetFileSystemEntries(user).Select(Path.GetFileName));
        Assert.Equal(ExitCodes.Usage, Rnalm("pretrain", "--train", "x.dbn", "--output", user, "--masking", "ernie").ExitCode); // needs --motifs
        Assert.Equal(ExitCodes.Usage, Rnalm("pretrain", "--train", "x.dbn", "--output", user, "--lr", "-1").ExitCode);
    }

    [Fact]
    public void FinetuneAndEvaluateASequenceClassifier()
    {
        // A tiny pretrained model, then 4 TBTH steps on an nRC subset and evaluation of the result.
        string data = SmallDbn(24);
        string pretrainRun = Path.Combine(_temp, "pre");
        Succeeds(new[] { "pretrain", "--train", data, "--output", pretrainRun, "--steps", "2", "--batch-size", "8" }.Concat(Tiny).ToArray());
        string checkpoint = Path.Combine(pretrainRun, "final");
        string run = Path.Combine(_temp, "ft");
        string train = Fixtures.Data("ncrna/nrc_train.fasta");
        string test = Fixtures.Data("ncrna/nrc_test.fasta");
        var result = Succeeds("finetune", "--task", "sequence", "--mode", "fbth", "--checkpoint", checkpoint, "--train", train, "--eval", test,
            "--train-limit", "64", "--eval-limit", "32", "--steps", "4", "--batch-size", "16", "--output", run);
        Assert.Contains("FBTH", result.Err);
        using (var doc = JsonDocument.Parse(result.Out))
        {
            var eval = doc.RootElement.GetProperty("eval");
            foreach (string metric in new[] { "accuracy", "macro_f1", "mcc", "loss" }) Assert.True(eval.TryGetProperty(metric, out _), metric);
            Assert.Equal(32, eval.GetProperty("examples").GetInt32());
        }
        var evaluation = Succeeds("evaluate", "--task", "sequence", "--checkpoint", Path.Combine(run, "final"), "--input", test, "--limit", "20", "--json");
        using (var doc = JsonDocument.Parse(evaluation.Out))
        {
            Assert.Equal(20, doc.RootElement.GetProperty("examples").GetInt32());
        }
        Assert.Equal(ExitCodes.Usage, Rnalm("evaluate", "--task", "token", "--checkpoint", Path.Combine(run, "final"), "--input", test).ExitCode);

        // predict on the same 20 records, without their labels: its classes reproduce evaluate's accuracy, and the
        // output does not depend on the batch size.
        var records = SequenceFiles.Read(test).Take(20).ToList();
        string unlabelled = Path.Combine(_temp, "unlabelled.fasta");
        File.WriteAllLines(unlabelled, records.SelectMany(r => new[] { ">" + r.Name, r.Sequence }));
        var predicted = Succeeds("predict", "--checkpoint", Path.Combine(run, "final"), "--input", unlabelled);
        var rows = predicted.Out.TrimEnd('\n').Split('\n');
        Assert.Equal("name\tlabel\tprobability", rows[0]);
        Assert.Equal(records.Select(r => r.Name), rows.Skip(1).Select(row => row.Split('\t')[0]));
        int correct = rows.Skip(1).Zip(records).Count(pair => pair.First.Split('\t')[1] == pair.Second.Label);
        using (var doc = JsonDocument.Parse(evaluation.Out))
        {
            Assert.Equal(doc.RootElement.GetProperty("accuracy").GetDouble(), correct / 20.0, 6);
        }
        Assert.Equal(predicted.Out, Succeeds("predict", "--checkpoint", Path.Combine(run, "final"), "--input", unlabelled, "--batch-size", "3").Out);
        var jsonLines = Succeeds("predict", "--checkpoint", Path.Combine(run, "final"), "--input", unlabelled, "--json").Out.TrimEnd('\n').Split('\n');
        Assert.Equal(20, jsonLines.Length);
        using (var first = JsonDocument.Parse(jsonLines[0]))
        {
            var probabilities = first.RootElement.GetProperty("probabilities").EnumerateObject().Select(p => p.Value.GetDouble()).ToList();
            Assert.Equal(1.0, probabilities.Sum(), 4);
            Assert.Equal(probabilities.Max(), first.RootElement.GetProperty("probability").GetDouble(), 6);
        }
        // A pretrained (not fine-tuned) folder is refused with a message that says why.
        var refused = Rnalm("predict", "--checkpoint", checkpoint, "--input", unlabelled);
        Assert.NotEqual(ExitCodes.Success, refused.ExitCode);
        Assert.Contains("rnalm_task", refused.Err);
        Assert.Equal(ExitCodes.Usage, Rnalm("finetune", "--from-scratch", "--mode", "fbth", "--train", train, "--output", Path.Combine(_temp, "x")).ExitCode);
    }

    [Fact]
    public void PredictStructuresWithAFineTunedContactModel()
    {
        // Whole structures (cut ones would leave brackets open): the first 24 records of VL0 with at most 90 nt.
        var shortRecords = SequenceFiles.Read(Fixtures.Data("structure/bprna_vl0.dbn")).Where(r => r.Sequence.Length <= 90).Take(24).ToList();
        string data = Path.Combine(_temp, "short.dbn");
        File.WriteAllLines(data, shortRecords.SelectMany(r => new[] { ">" + r.Name, r.Sequence, r.Structure! }));
        string pretrainRun = Path.Combine(_temp, "pre-contact");
        Succeeds(new[] { "pretrain", "--train", data, "--output", pretrainRun, "--steps", "2", "--batch-size", "8" }.Concat(Tiny).ToArray());
        string run = Path.Combine(_temp, "contact");
        Succeeds("finetune", "--task", "contact", "--checkpoint", Path.Combine(pretrainRun, "final"), "--train", data, "--steps", "2", "--batch-size", "8", "--output", run);
        string model = Path.Combine(run, "final");

        // One record longer than the model (96 positions: 94 nucleotides) is read up to its limit, and says so.
        var records = SequenceFiles.Read(data).Take(5).ToList();
        string input = Path.Combine(_temp, "to-fold.fasta");
        string longSequence = string.Concat(Enumerable.Repeat("GGGAAACCCU", 12));
        File.WriteAllLines(input, records.SelectMany(r => new[] { ">" + r.Name, r.Sequence }).Concat(new[] { ">long", longSequence }));
        var text = Succeeds("predict", "--checkpoint", model, "--input", input, "--threshold", "0.3", "--long", "truncate");
        Assert.Contains("'long' has 120 nucleotides; the model read the first 94", text.Err);
        // By default it is read whole, in overlapping windows.
        var chunked = Succeeds("predict", "--checkpoint", model, "--input", input, "--threshold", "0.3");
        Assert.Contains("'long' (120 nucleotides) is longer than the model; read in 2 overlapping windows", chunked.Err);
        Assert.Contains(longSequence, chunked.Out);
        var lines = text.Out.TrimEnd('\n').Split('\n');
        Assert.Equal(3 * 6, lines.Length);
        for (int r = 0; r < 6; r++)
        {
            string sequence = r < 5 ? records[r].Sequence : longSequence[..94];
            Assert.Equal(">" + (r < 5 ? records[r].Name : "long"), lines[3 * r]);
            Assert.Equal(sequence, lines[3 * r + 1]);
            Assert.Equal(sequence.Length, lines[3 * r + 2].Length);
            Assert.Equal(DotBracket.Pairs(lines[3 * r + 2]).Count * 2, lines[3 * r + 2].Count(c => c != '.'));
        }
        // Printed as fold prints it, as the model reads it (upper case, T as U); --svg and --png draw the structure.
        string messy = Path.Combine(_temp, "messy.fasta");
        File.WriteAllText(messy, ">messy\nggacuUCGtcc\n");
        string pictures = Path.Combine(_temp, "pictures");
        var drawn = Succeeds("predict", "--checkpoint", model, "--input", messy, "--svg", pictures, "--png", pictures);
        Assert.Equal("GGACUUCGUCC", drawn.Out.Split('\n')[1]);
        Assert.Equal(new[] { "messy.contact.png", "messy.svg" }, Directory.GetFiles(pictures).Select(Path.GetFileName).Order());

        // JSON: every listed pair is in the structure, reaches the threshold and is symmetric in meaning (i < j).
        foreach (string line in Succeeds("predict", "--checkpoint", model, "--input", input, "--threshold", "0.3", "--json").Out.TrimEnd('\n').Split('\n'))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var structurePairs = DotBracket.Pairs(root.GetProperty("structure").GetString()!).ToHashSet();
            var pairs = root.GetProperty("pairs").EnumerateArray().Select(p => (I: p[0].GetInt32() - 1, J: p[1].GetInt32() - 1, P: p[2].GetDouble())).ToList();
            Assert.Equal(structurePairs.Count, pairs.Count);
            foreach (var (i, j, probability) in pairs)
            {
                Assert.True(i < j);
                Assert.Contains((i, j), structurePairs);
                Assert.InRange(probability, 0.3, 1.0);
            }
        }

        // A token model on the same records: one paired probability per nucleotide read, marked at the threshold.
        string tokenRun = Path.Combine(_temp, "paired");
        Succeeds("finetune", "--task", "token", "--checkpoint", Path.Combine(pretrainRun, "final"), "--train", data, "--steps", "2", "--batch-size", "8", "--output", tokenRun);
        var tokenLines = Succeeds("predict", "--checkpoint", Path.Combine(tokenRun, "final"), "--input", input, "--threshold", "0.4", "--json").Out.TrimEnd('\n').Split('\n');
        Assert.Equal(6, tokenLines.Length);
        foreach (string line in tokenLines)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var probabilities = root.GetProperty("paired_probability").EnumerateArray().Select(v => v.GetDouble()).ToList();
            Assert.Equal(root.GetProperty("sequence").GetString()!.Length, probabilities.Count);
            Assert.All(probabilities, v => Assert.InRange(v, 0.0, 1.0));
            Assert.Equal(new string(probabilities.Select(v => v >= 0.4 ? '|' : '.').ToArray()), root.GetProperty("paired").GetString());
        }
    }

    // ------------------------------------------------------------------ the built-in default model

    [Fact]
    public void TheBuiltInModelIsShippedAndLoads()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "models", "rnalm-mini");
        foreach (string name in new[] { "config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors" })
        {
            Assert.True(File.Exists(Path.Combine(dir, name)), $"the built-in model lacks {name} in {dir}");
        }
        Assert.InRange(new FileInfo(Path.Combine(dir, "model.safetensors")).Length, 1_000_000, 10_000_000);
        var fill = Succeeds("fill-mask", "UAGC<mask>UAUCAGACUGAUGUUG");
        using (var doc = JsonDocument.Parse(fill.Out))
        {
            Assert.Equal(5, doc.RootElement.GetArrayLength());
            Assert.Contains(doc.RootElement.EnumerateArray().First().GetProperty("token_str").GetString(), new[] { "A", "C", "G", "U" });
        }
        string fasta = Path.Combine(_temp, "two.fasta");
        File.WriteAllText(fasta, ">a\nACGUACGU\n>b\nGGGAAACCC\n");
        string output = Path.Combine(_temp, "two.safetensors");
        Succeeds("embed", "--input", fasta, "--output", output);
        using var file = IO.SafeTensorsFile.Open(output);
        Assert.Equal(new long[] { 10, 128 }, file.Tensors.Single(t => t.Name == "a.last_hidden_state").Shape);
    }

    /// <summary>
    /// The shipped model measures 34.75% against 26.66% on this subset, a margin of 8.09 points (docs/default-model.md;
    /// on the whole held-out split it is 6.42 points). The bound guards what is shipped against
    /// regressions, with room for the last-bit differences of another CPU or thread count.
    /// </summary>
    private const double ShippedMarginPoints = 7.5;

    [Fact]
    public void TheBuiltInModelBeatsTheMostFrequentNucleotide()
    {
        // A fixed subset (the first 200 held-out records of the hashed 5% split) keeps this fast.
        var result = Succeeds("evaluate", "--task", "mlm", "--input", Fixtures.Data("pretraining/bprna_tr0.dbn"), "--split", "held-out", "--limit", "200", "--json");
        using var doc = JsonDocument.Parse(result.Out);
        double accuracy = doc.RootElement.GetProperty("accuracy").GetDouble();
        double baseline = doc.RootElement.GetProperty("baseline_accuracy").GetDouble();
        Assert.Equal(3376, doc.RootElement.GetProperty("tokens").GetInt32()); // the masks are fixed by the seed
        Assert.InRange(baseline, 0.26, 0.28);
        Assert.True(100 * (accuracy - baseline) >= ShippedMarginPoints,
            $"accuracy {accuracy:P2} vs baseline {baseline:P2}: margin below {ShippedMarginPoints} points");
    }
}
