using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using RnaLm.IO;
using Xunit;
using static RnaLm.Tests.Cli.CliHarness;

namespace RnaLm.Tests.Cli;

/// <summary>
/// The Snakemake workflow in <c>workflow/</c> run locally: it shards a FASTA file into jobs of <c>rnalm embed --shard</c>
/// and merges them. Needs Debian's <c>snakemake</c> on the PATH (<c>.ci/run</c> installs it).
/// </summary>
public sealed class WorkflowTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("rnalm-workflow-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Snakefile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "workflow", "Snakefile");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"No workflow/Snakefile above {AppContext.BaseDirectory}.");
    }

    private static string Snakemake()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "snakemake");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("snakemake is not on the PATH; install Debian's package (apt-get install snakemake), as .ci/run does.");
    }

    private (int Code, string Output) RunWorkflow(string fasta, string merged)
    {
        var start = new ProcessStartInfo(Snakemake())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _temp,
        };
        foreach (string arg in new[]
        {
            "-s", Snakefile(), "--directory", _temp, "--cores", "2", "--printshellcmds", "--config",
            $"input={fasta}", $"output={merged}", "format=npz", "shards=3",
            $"rnalm={Path.Combine(AppContext.BaseDirectory, "rnalm")}",
            $"embed_args=--checkpoint {Fixtures.Models("splicebert")} --include mean,bos --long chunk",
        })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["RNALM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "snakemake did not finish within 5 minutes");
        return (process.ExitCode, stdout.Result + stderr);
    }

    [Fact]
    public void ShardedWorkflowGivesTheUnshardedResultAndReRunsOnlyADeletedShard()
    {
        var random = new Random(5);
        var text = new StringBuilder();
        for (int i = 0; i < 31; i++)
        {
            text.Append($">s{i}\n").Append(new string(Enumerable.Range(0, random.Next(5, 60)).Select(_ => "ACGU"[random.Next(4)]).ToArray())).Append('\n');
        }
        string fasta = Path.Combine(_temp, "in.fasta");
        File.WriteAllText(fasta, text.ToString());
        string whole = Path.Combine(_temp, "whole.npz");
        Succeeds("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", fasta, "--output", whole, "--format", "npz", "--include", "mean,bos", "--long", "chunk");

        string merged = Path.Combine(_temp, "merged.npz");
        var (code, output) = RunWorkflow(fasta, merged);
        Assert.True(code == 0, output);
        AssertSameVectors(whole, merged);

        string[] shards = Enumerable.Range(1, 3).Select(i => Path.Combine(_temp, "merged.npz.shards", $"shard-{i}-of-3.npz")).ToArray();
        var before = shards.Select(File.GetLastWriteTimeUtc).ToArray();
        File.Delete(shards[1]);
        (code, output) = RunWorkflow(fasta, merged);
        Assert.True(code == 0, output);
        Assert.Contains($"--shard 2/3", output);
        Assert.DoesNotContain("--shard 1/3", output);
        Assert.DoesNotContain("--shard 3/3", output);
        Assert.Equal(before[0], File.GetLastWriteTimeUtc(shards[0]));
        Assert.Equal(before[2], File.GetLastWriteTimeUtc(shards[2]));
        Assert.True(File.Exists(shards[1]));
        AssertSameVectors(whole, merged);
    }

    private static void AssertSameVectors(string expectedPath, string actualPath)
    {
        var expected = NumpyReader.ReadNpz(expectedPath);
        var actual = NumpyReader.ReadNpz(actualPath);
        Assert.Equal(expected["names"].Strings(), actual["names"].Strings());
        foreach (string key in new[] { "mean", "bos" })
        {
            Assert.Equal(expected[key].Shape, actual[key].Shape);
            float[] a = expected[key].Floats(), b = actual[key].Floats();
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 * (1 + Math.Abs(a[i])), $"{key}[{i}]: {a[i]} vs {b[i]}");
        }
    }
}
