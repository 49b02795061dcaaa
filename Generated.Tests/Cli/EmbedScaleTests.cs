using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using RnaLm.Cli;
using RnaLm.IO;
using RnaLm.Tokenization;
using Xunit;
using static RnaLm.Tests.Cli.CliHarness;

namespace RnaLm.Tests.Cli;

/// <summary>
/// <c>rnalm embed</c> at scale: pooled outputs, the long-record policies, NumPy formats, standard streams, gzip input,
/// shards and their merge, and <c>--threads</c>, on the tiny SpliceBERT fixture (36-40 tokens).
/// </summary>
public sealed class EmbedScaleTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("rnalm-embed-scale-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Splicebert => Fixtures.Models("splicebert");

    /// <summary>Records of varied lengths (some longer than the fixture's 40 tokens), lower case and T included.</summary>
    private string WriteFasta(int count, string name = "seqs.fasta", int maxLength = 30)
    {
        var random = new Random(11);
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            int length = random.Next(1, maxLength + 1);
            text.Append($">r{i} record {i}\n");
            text.Append(new string(Enumerable.Range(0, length).Select(_ => "ACGUacgtN"[random.Next(9)]).ToArray())).Append('\n');
        }
        string path = Path.Combine(_temp, name);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private static void AssertClose(float[] expected, float[] actual, string what, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {expected[i]} vs {actual[i]}");
        }
    }

    [Fact]
    public void MeanAveragesTheNucleotideTokensAndBosIsTheFirstToken()
    {
        string fasta = Path.Combine(_temp, "m.fasta");
        File.WriteAllText(fasta, ">a\nACGU<mask>GGac\n>b\nUUUU\n");
        string output = Path.Combine(_temp, "m.safetensors");
        Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", output, "--include", "per-token,mean,bos");
        using var file = SafeTensorsFile.Open(output);
        Assert.Equal(new[] { "a.last_hidden_state", "a.mean", "a.bos", "b.last_hidden_state", "b.mean", "b.bos" }, file.Tensors.Select(t => t.Name));
        var tokenizer = RnaTokenizer.FromDirectory(Splicebert);
        foreach (var (name, sequence) in new[] { ("a", "ACGU<mask>GGac"), ("b", "UUUU") })
        {
            int[] ids = tokenizer.Encode(sequence).InputIds;
            float[] states = file.Load($"{name}.last_hidden_state").data<float>().ToArray();
            int hidden = states.Length / ids.Length;
            var expected = new float[hidden];
            int count = 0;
            for (int t = 0; t < ids.Length; t++)
            {
                if (tokenizer.IsSpecialToken(ids[t])) continue; // <cls>, <eos> and the <mask> are left out
                count++;
                for (int h = 0; h < hidden; h++) expected[h] += states[t * hidden + h];
            }
            Assert.Equal(name == "a" ? 8 : 4, count);
            AssertClose(expected.Select(v => v / count).ToArray(), file.Load($"{name}.mean").data<float>().ToArray(), $"{name}.mean");
            Assert.Equal(states.Take(hidden).ToArray(), file.Load($"{name}.bos").data<float>().ToArray());
        }
    }

    [Fact]
    public void OutputsDoNotDependOnBatchingOrTheSortWindowAndKeepFileOrder()
    {
        string fasta = WriteFasta(40);
        string small = Path.Combine(_temp, "small.safetensors");
        string large = Path.Combine(_temp, "large.safetensors");
        string[] common = ["embed", "--checkpoint", Splicebert, "--input", fasta, "--include", "per-token,mean", "--layers", "0,-1"];
        Succeeds([.. common, "--output", small, "--batch-size", "1", "--sort-window", "1"]);
        Succeeds([.. common, "--output", large, "--max-batch-tokens", "200", "--sort-window", "7"]);
        using var a = SafeTensorsFile.Open(small);
        using var b = SafeTensorsFile.Open(large);
        var names = Enumerable.Range(0, 40).SelectMany(i => new[] { $"r{i}.hidden_states.0", $"r{i}.hidden_states.2", $"r{i}.mean.0", $"r{i}.mean.2" }).ToArray();
        Assert.Equal(names, a.Tensors.Select(t => t.Name));
        Assert.Equal(names, b.Tensors.Select(t => t.Name));
        foreach (string name in names) AssertClose(a.Load(name).data<float>().ToArray(), b.Load(name).data<float>().ToArray(), name);
    }

    [Fact]
    public void LongRecordsFollowThePolicyAndTheMetadataSaysWhich()
    {
        // The fixture accepts 40 tokens: 38 nucleotides and <cls>, <eos>.
        string fasta = Path.Combine(_temp, "long.fasta");
        string longOne = string.Concat(Enumerable.Repeat("GGACUUCA", 12)); // 96 nucleotides
        File.WriteAllText(fasta, $">short\nACGUAC\n>long\n{longOne}\n");
        string output = Path.Combine(_temp, "long.safetensors");
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", output), 1,
            $"{fasta}:3", "'long' (#2)", "98 tokens", "40", "--long truncate", "--long chunk");

        Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", output, "--long", "truncate");
        using (var file = SafeTensorsFile.Open(output))
        {
            Assert.Equal("truncate", file.Metadata["long_policy"]);
            Assert.Equal("1", file.Metadata["truncated_records"]);
            Assert.Equal(new long[] { 40, 32 }, file.Tensors.Single(t => t.Name == "long.last_hidden_state").Shape);
        }

        string chunked = Path.Combine(_temp, "chunked.safetensors");
        var run = Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", chunked, "--long", "chunk", "--chunk-overlap", "10", "--include", "per-token,mean");
        Assert.Contains("1 chunked", run.Err);
        using var chunks = SafeTensorsFile.Open(chunked);
        Assert.Equal("chunk", chunks.Metadata["long_policy"]);
        Assert.Equal("10", chunks.Metadata["chunk_overlap"]);
        Assert.Equal(new long[] { 98, 32 }, chunks.Tensors.Single(t => t.Name == "long.last_hidden_state").Shape);
        // A record that fits is not split: the same output as without a policy.
        string plain = Path.Combine(_temp, "plain.safetensors");
        File.WriteAllText(Path.Combine(_temp, "short.fasta"), ">short\nACGUAC\n");
        Succeeds("embed", "--checkpoint", Splicebert, "--input", Path.Combine(_temp, "short.fasta"), "--output", plain, "--include", "per-token,mean");
        using var reference = SafeTensorsFile.Open(plain);
        AssertClose(reference.Load("short.last_hidden_state").data<float>().ToArray(), chunks.Load("short.last_hidden_state").data<float>().ToArray(), "short");

        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", chunked, "--long", "chunk", "--chunk-overlap", "38"), 2, "--chunk-overlap 38", "38");
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", chunked, "--long", "chunk", "--attentions"), 2, "--attentions", "--long chunk");
    }

    [Fact]
    public void NumpyFormatsAreChosenByFormatNeverByTheNameAlone()
    {
        string fasta = WriteFasta(5);
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", Path.Combine(_temp, "x.npy"), "--include", "mean"), 2, "x.npy", "--format npy");
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", Path.Combine(_temp, "x.safetensors"), "--format", "npz", "--include", "mean"), 2, ".safetensors", "npz");
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", Path.Combine(_temp, "x.npz"), "--format", "npz"), 2, "pooled", "per-token");
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", Path.Combine(_temp, "x.npy"), "--format", "npy", "--include", "mean,bos"), 2, "one matrix");
        Assert.Empty(Directory.GetFiles(_temp, "x.*"));

        string reference = Path.Combine(_temp, "ref.safetensors");
        Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", reference, "--include", "mean,bos");
        string npz = Path.Combine(_temp, "v.npz");
        string npy = Path.Combine(_temp, "v.npy");
        Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", npz, "--format", "npz", "--include", "mean,bos");
        Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", npy, "--format", "npy", "--include", "mean");
        using var expected = SafeTensorsFile.Open(reference);
        var arrays = NumpyReader.ReadNpz(npz);
        Assert.Equal(new[] { "r0", "r1", "r2", "r3", "r4" }, arrays["names"].Strings());
        Assert.Equal(new long[] { 5, 32 }, arrays["mean"].Shape);
        Assert.Contains("\"long_policy\":\"error\"", arrays["metadata"].Strings()[0]);
        using var stream = File.OpenRead(npy);
        var matrix = NumpyReader.ReadNpy(stream, npy);
        for (int i = 0; i < 5; i++)
        {
            float[] mean = expected.Load($"r{i}.mean").data<float>().ToArray();
            Assert.Equal(mean, arrays["mean"].Floats().Skip(i * 32).Take(32).ToArray());
            Assert.Equal(mean, matrix.Floats().Skip(i * 32).Take(32).ToArray());
            Assert.Equal(expected.Load($"r{i}.bos").data<float>().ToArray(), arrays["bos"].Floats().Skip(i * 32).Take(32).ToArray());
        }
    }

    [Fact]
    public void GzippedStandardInputAndStandardOutputWork()
    {
        string fasta = WriteFasta(6);
        string reference = Path.Combine(_temp, "ref.npy");
        Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", reference, "--format", "npy", "--include", "mean");

        var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(File.ReadAllBytes(fasta));
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int code = Program.Run(["embed", "--checkpoint", Splicebert, "--input", "-", "--output", "-", "--format", "npy", "--include", "mean"],
            new StringWriter(), stderr, () => new MemoryStream(gzipped.ToArray()), () => stdout);
        Assert.True(code == 0, stderr.ToString());
        Assert.Equal(File.ReadAllBytes(reference), stdout.ToArray());
        Assert.False(File.Exists("-"));

        string gz = fasta + ".gz";
        File.WriteAllBytes(gz, gzipped.ToArray());
        string fromGz = Path.Combine(_temp, "gz.npy");
        Succeeds("embed", "--checkpoint", Splicebert, "--input", gz, "--output", fromGz, "--format", "npy", "--include", "mean");
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(fromGz));

        string damaged = Path.Combine(_temp, "damaged.fasta.gz");
        byte[] corrupt = gzipped.ToArray();
        corrupt.AsSpan(10, 8).Fill(0xFF); // the first deflate block then has the reserved block type
        File.WriteAllBytes(damaged, corrupt);
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", damaged, "--output", Path.Combine(_temp, "d.npy"), "--format", "npy", "--include", "mean"), 1, damaged);
    }

    [Fact]
    public void OtherCommandsReadGzipAndStandardInputAndRefuseOutputDash()
    {
        string fasta = Path.Combine(_temp, "fold.fasta");
        File.WriteAllText(fasta, ">tar\nGGUCUCUCUGGUUAGACCAGAUCUGAGCCU\n");
        var plain = Succeeds("fold", "--checkpoint", Fixtures.Models("ernierna-ss"), "--input", fasta);
        var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(File.ReadAllBytes(fasta));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(["fold", "--checkpoint", Fixtures.Models("ernierna-ss"), "--input", "-"], stdout, stderr, () => new MemoryStream(gzipped.ToArray()), null);
        Assert.True(code == 0, stderr.ToString());
        Assert.Equal(plain.Out, stdout.ToString());

        string gz = Path.Combine(_temp, "mlm.fasta.gz");
        File.WriteAllBytes(gz, gzipped.ToArray());
        Assert.Equal(Succeeds("evaluate", "--input", fasta, "--json").Out, Succeeds("evaluate", "--input", gz, "--json").Out);

        AssertCleanError(Rnalm("fold", "--checkpoint", Fixtures.Models("ernierna-ss"), "--input", fasta, "--output", "-"), 2, "--output -");
        AssertCleanError(Rnalm("pretrain", "--train", fasta, "--output", "-"), 2, "--output -");
        Assert.False(File.Exists("-") || Directory.Exists("-"));
    }

    [Theory]
    [InlineData("safetensors")]
    [InlineData("npz")]
    public void MergedShardsEqualOneUnshardedRunAndCompleteShardsAreSkipped(string format)
    {
        string fasta = WriteFasta(23);
        string whole = Path.Combine(_temp, $"whole.{format}");
        string[] common = ["embed", "--checkpoint", Splicebert, "--input", fasta, "--format", format, "--include", "mean,bos"];
        Succeeds([.. common, "--output", whole]);
        var shards = new List<string>();
        for (int i = 1; i <= 3; i++)
        {
            string shard = Path.Combine(_temp, $"shard{i}.{format}");
            var run = Succeeds([.. common, "--output", shard, "--shard", $"{i}/3"]);
            Assert.Contains($"(shard {i}/3)", run.Err);
            shards.Add(shard);
        }
        DateTime written = File.GetLastWriteTimeUtc(shards[1]);
        var again = Succeeds([.. common, "--output", shards[1], "--shard", "2/3"]);
        Assert.Contains("already complete", again.Err);
        Assert.Equal(written, File.GetLastWriteTimeUtc(shards[1]));

        string merged = Path.Combine(_temp, $"merged.{format}");
        Succeeds(["merge", "--output", merged, shards[2], shards[0], shards[1]]);
        if (format == "npz")
        {
            var a = NumpyReader.ReadNpz(whole);
            var b = NumpyReader.ReadNpz(merged);
            Assert.Equal(a["names"].Strings(), b["names"].Strings());
            AssertClose(a["mean"].Floats(), b["mean"].Floats(), "mean");
            AssertClose(a["bos"].Floats(), b["bos"].Floats(), "bos");
        }
        else
        {
            using var a = SafeTensorsFile.Open(whole);
            using var b = SafeTensorsFile.Open(merged);
            Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
            foreach (var t in a.Tensors) AssertClose(a.Load(t.Name).data<float>().ToArray(), b.Load(t.Name).data<float>().ToArray(), t.Name);
            Assert.Equal(a.Metadata["rnalm_job"], b.Metadata["rnalm_job"]);
            Assert.Equal("23", b.Metadata["records"]);
        }
        // The merged file is complete for the unsharded job, so that run is skipped too.
        Assert.Contains("already complete", Succeeds([.. common, "--output", merged]).Err);

        AssertCleanError(Rnalm("merge", "--output", Path.Combine(_temp, $"part.{format}"), shards[0], shards[2]), 1, "2/3", "missing");
        AssertCleanError(Rnalm("merge", "--output", Path.Combine(_temp, $"part.{format}"), shards[0], shards[0], shards[1], shards[2]), 1, "given twice");
        AssertCleanError(Rnalm("merge", "--output", shards[0], shards[0], shards[1], shards[2]), 2, "shard to merge");
    }

    [Fact]
    public void ShardsAreContiguousAndCoverEveryRecordOnce()
    {
        foreach (int total in new[] { 1, 5, 23, 100 })
        {
            foreach (int count in new[] { 1, 2, 3, 4, 7 })
            {
                int next = 0;
                for (int i = 1; i <= count; i++)
                {
                    var (first, end) = RnaLm.Cli.Commands.EmbedCommand.ShardRange(total, i, count);
                    Assert.Equal(next, first);
                    Assert.InRange(end - first, total / count, total / count + 1);
                    next = end;
                }
                Assert.Equal(total, next);
            }
        }
        string fasta = WriteFasta(3);
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", Path.Combine(_temp, "s.safetensors"), "--shard", "4/3"), 2, "--shard", "4/3");
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", "-", "--output", Path.Combine(_temp, "s.safetensors"), "--shard", "1/2"), 2, "--shard", "standard input");
    }

    [Fact]
    public void ThreadsIsAnOptionOfEveryCommand()
    {
        string fasta = WriteFasta(2);
        Succeeds("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", Path.Combine(_temp, "t.safetensors"), "--threads", "1");
        Succeeds("tokenize", "--threads", "1", "ACGU");
        AssertCleanError(Rnalm("embed", "--checkpoint", Splicebert, "--input", fasta, "--output", Path.Combine(_temp, "t.safetensors"), "--threads", "0"), 2, "--threads");
        foreach (string command in new[] { "models", "tokenize", "embed", "merge", "fill-mask", "fold", "predict", "pretrain", "finetune", "evaluate" })
        {
            Assert.Contains("--threads", Succeeds(command, "--help").Out);
        }
    }
}
