using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using RnaLm.Tests.Cli;
using RnaLm.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// Resuming a finished run succeeds; pruning is crash-safe; what an interrupted run or write left behind (hidden
/// temporary, moved-aside and half-deleted folders, temporary output files) is removed at the next start, and nothing
/// else is; and a run killed with SIGKILL at arbitrary moments resumes to exactly the weights of an uninterrupted run.
/// </summary>
public sealed class ResumeAndDebrisTests : IDisposable
{
    private static readonly string[] Tiny = { "--hidden", "16", "--layers", "1", "--heads", "2", "--intermediate", "32", "--max-positions", "96" };

    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-resume-").FullName;
    private readonly ITestOutputHelper _output;

    public ResumeAndDebrisTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Dbn(int count, int maxLength = 60)
    {
        string path = Path.Combine(_dir, $"data-{count}-{maxLength}.dbn");
        var records = SequenceFiles.Read(Fixtures.Data("structure/bprna_vl0.dbn")).Where(r => r.Sequence.Length <= maxLength).Take(count);
        File.WriteAllLines(path, records.SelectMany(r => new[] { ">" + r.Name, r.Sequence, r.Structure! }));
        return path;
    }

    private static string Hex() => Guid.NewGuid().ToString("N");

    private static IEnumerable<string> Hidden(string run) =>
        Directory.EnumerateFileSystemEntries(run).Select(Path.GetFileName).Where(n => n!.StartsWith('.')).Select(n => n!);

    [Fact]
    public void ResumingAFinishedPretrainingRunExitsZeroWithTheRecordedLoss()
    {
        string data = Dbn(16);
        string run = Path.Combine(_dir, "pre");
        var args = new[] { "pretrain", "--train", data, "--output", run, "--steps", "3", "--batch-size", "4" }.Concat(Tiny).ToArray();
        var first = CliHarness.Succeeds(args);
        var again = CliHarness.Succeeds(args.Append("--resume").ToArray());
        using var before = JsonDocument.Parse(first.Out);
        using var after = JsonDocument.Parse(again.Out);
        Assert.True(after.RootElement.GetProperty("completed").GetBoolean());
        Assert.Equal(3, after.RootElement.GetProperty("steps").GetInt32());
        Assert.Equal(before.RootElement.GetProperty("train_loss").GetDouble(), after.RootElement.GetProperty("train_loss").GetDouble(), 6);
        Assert.Empty(Hidden(run));
    }

    [Fact]
    public void ResumingAFinishedFineTuningRunExitsZero()
    {
        string data = Dbn(16);
        string pre = Path.Combine(_dir, "pre");
        CliHarness.Succeeds(new[] { "pretrain", "--train", data, "--output", pre, "--steps", "1", "--batch-size", "4" }.Concat(Tiny).ToArray());
        string run = Path.Combine(_dir, "ft");
        var args = new[] { "finetune", "--task", "token", "--checkpoint", Path.Combine(pre, "final"), "--train", data, "--eval", data, "--output", run, "--steps", "2", "--batch-size", "8" };
        CliHarness.Succeeds(args);
        var again = CliHarness.Succeeds(args.Append("--resume").ToArray());
        using var summary = JsonDocument.Parse(again.Out);
        Assert.True(summary.RootElement.GetProperty("completed").GetBoolean());
        Assert.Equal(JsonValueKind.Number, summary.RootElement.GetProperty("train_loss").ValueKind);
    }

    [Fact]
    public void LeftoversOfAnInterruptedRunAreCleanedAtTheNextStartAndNothingElseIs()
    {
        string data = Dbn(16);
        string run = Path.Combine(_dir, "run");
        var args = new[] { "pretrain", "--train", data, "--output", run, "--steps", "4", "--batch-size", "4", "--save-every", "1", "--keep", "2" }.Concat(Tiny).ToArray();
        CliHarness.Succeeds(args.Concat(new[] { "--stop-after", "3" }).ToArray());
        Assert.Equal(new[] { "checkpoint-0000002", "checkpoint-0000003" },
            Directory.GetDirectories(run, "checkpoint-*").Select(Path.GetFileName).Order());

        // What kills at different moments leave: a half-written checkpoint and final folder, a half-deleted pruned
        // checkpoint, and a checkpoint moved aside whose replacement never arrived.
        string halfWritten = Path.Combine(run, $".checkpoint-0000004.tmp-{Hex()}");
        Directory.CreateDirectory(halfWritten);
        File.WriteAllBytes(Path.Combine(halfWritten, "model.safetensors"), new byte[1000]);
        Directory.CreateDirectory(Path.Combine(run, $".final.tmp-{Hex()}"));
        string halfDeleted = Path.Combine(run, $".deleting-checkpoint-0000001-{Hex()}");
        Directory.CreateDirectory(halfDeleted);
        File.WriteAllText(Path.Combine(halfDeleted, "config.json"), "{}");
        Directory.Move(Path.Combine(run, "checkpoint-0000003"), Path.Combine(run, $".checkpoint-0000003.old-{Hex()}"));
        // Things that are not ours, even if they look close.
        string[] foreign = { ".checkpoint-notes", ".final.tmp-123", ".deleting-my-thesis", "notes.txt", ".checkpoint-0000004.tmp-" + Hex().ToUpperInvariant() };
        foreach (string name in foreign)
        {
            if (name.EndsWith(".txt", StringComparison.Ordinal)) File.WriteAllText(Path.Combine(run, name), "mine");
            else Directory.CreateDirectory(Path.Combine(run, name));
        }

        var resumed = CliHarness.Succeeds(args.Append("--resume").ToArray());
        Assert.Contains("removed 4 leftover folder(s) of an interrupted run", resumed.Err);
        Assert.Contains("resuming at step 3", resumed.Err); // checkpoint-0000003 was put back, not lost
        Assert.Equal(foreign.Where(n => n.StartsWith('.')).Order(StringComparer.Ordinal), Hidden(run).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(Path.Combine(run, "notes.txt")));
        Assert.Equal(new[] { "checkpoint-0000003", "checkpoint-0000004" },
            Directory.GetDirectories(run, "checkpoint-*").Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ASecondRunOnAFolderInUseIsRefusedAndCleansNothing()
    {
        string data = Dbn(16);
        string run = Path.Combine(_dir, "busy");
        var args = new[] { "pretrain", "--train", data, "--output", run, "--steps", "2", "--batch-size", "4" }.Concat(Tiny).ToArray();
        CliHarness.Succeeds(args.Concat(new[] { "--stop-after", "1" }).ToArray());
        string working = Path.Combine(run, $".checkpoint-0000002.tmp-{Hex()}");
        Directory.CreateDirectory(working);
        // The running trainer holds its folder's marker locked (as Trainer.Run does for the whole run).
        using (new FileStream(Path.Combine(run, Trainer.RunMarkerFile), FileMode.Open, FileAccess.Read, FileShare.None))
        {
            var refused = CliHarness.Rnalm(args.Append("--resume").ToArray());
            CliHarness.AssertCleanError(refused, RnaLm.Cli.ExitCodes.Failure, "is in use by another rnalm run");
            Assert.True(Directory.Exists(working), "the other run's folder in progress was deleted");
        }
        CliHarness.Succeeds(args.Append("--resume").ToArray());
        Assert.Empty(Hidden(run));
    }

    [Fact]
    public void EmbedRemovesTemporaryFilesOfAnInterruptedWriteOfTheSameOutputOnly()
    {
        string fasta = Path.Combine(_dir, "in.fasta");
        File.WriteAllText(fasta, ">a\nACGUACGU\n");
        string output = Path.Combine(_dir, "out.safetensors");
        string stale = output + ".tmp-0123456789ab";
        File.WriteAllBytes(stale, new byte[4096]);
        string inUse = output + ".tmp-fedcba987654";
        string[] foreign = { output + ".tmp-notours", output + ".tmp-0123456789ab.keep", Path.Combine(_dir, "other.safetensors.tmp-0123456789ab") };
        foreach (string path in foreign) File.WriteAllText(path, "mine");
        using (var writer = new FileStream(inUse, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            var result = CliHarness.Succeeds("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", fasta, "--output", output);
            Assert.Contains("removed 1 temporary file(s)", result.Err);
            Assert.True(File.Exists(inUse), "a temporary file held by a running write was deleted");
        }
        Assert.False(File.Exists(stale));
        Assert.All(foreign, path => Assert.Equal("mine", File.ReadAllText(path)));
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void ARunKilledAtArbitraryMomentsResumesToTheWeightsOfAnUninterruptedRun()
    {
        string data = Dbn(24);
        string rnalm = Path.Combine(AppContext.BaseDirectory, "rnalm.dll");
        string[] Args(string run) => new[] { rnalm, "pretrain", "--train", data, "--output", run, "--steps", "48", "--batch-size", "4", "--save-every", "1", "--keep", "1", "--seed", "5" }.Concat(Tiny).ToArray();

        string straight = Path.Combine(_dir, "straight");
        Assert.Equal(0, RunToEnd(Args(straight)));

        string killed = Path.Combine(_dir, "killed");
        var rng = new Random(3);
        int kills = 0;
        for (int attempt = 0; attempt < 10 && kills < 3; attempt++)
        {
            var args = Args(killed).ToList();
            if (Directory.Exists(killed) && Trainer.FindLatestCheckpoint(killed) is not null) args.Add("--resume");
            if (KillDuringTraining(args, checkpointsBeforeKill: 1 + rng.Next(3), delayMs: rng.Next(0, 60))) kills++;
            else
            {
                // On a starved machine the run can outpace the kill; a finished run has nothing left to interrupt,
                // so the chain of interruptions starts again on a fresh folder.
                AssertNoIncompleteVisibleCheckpoint(killed);
                Directory.Delete(killed, recursive: true);
                kills = 0;
                continue;
            }
            AssertNoIncompleteVisibleCheckpoint(killed);
        }
        Assert.True(kills >= 2, $"only {kills} runs in a row were killed before finishing");
        var resumeArgs = Args(killed).ToList();
        if (Trainer.FindLatestCheckpoint(killed) is not null) resumeArgs.Add("--resume");
        Assert.Equal(0, RunToEnd(resumeArgs.ToArray()));

        Assert.Empty(Hidden(killed));
        AssertNoIncompleteVisibleCheckpoint(killed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "final", "model.safetensors")), File.ReadAllBytes(Path.Combine(killed, "final", "model.safetensors")));
    }

    private static void AssertNoIncompleteVisibleCheckpoint(string run)
    {
        if (!Directory.Exists(run)) return;
        foreach (string checkpoint in Directory.GetDirectories(run, "checkpoint-*"))
        {
            foreach (string file in new[] { "config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors", "optimizer.safetensors", CheckpointWriter.TrainerStateFile })
            {
                Assert.True(File.Exists(Path.Combine(checkpoint, file)), $"{checkpoint} has no {file}");
            }
        }
    }

    private static ProcessStartInfo Start(IEnumerable<string> args)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    private int RunToEnd(string[] args)
    {
        using var process = Process.Start(Start(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rnalm pretrain did not finish in 2 minutes");
        }
        process.WaitForExit();
        _output.WriteLine($"exit {process.ExitCode}: {stderr.Result.Split('\n').LastOrDefault(l => l.Length > 0)}");
        return process.ExitCode;
    }

    /// <summary>Starts a run and kills it (SIGKILL) <paramref name="delayMs"/> after its n-th checkpoint; false when it finished first.</summary>
    private bool KillDuringTraining(List<string> args, int checkpointsBeforeKill, int delayMs)
    {
        using var process = Process.Start(Start(args))!;
        _ = process.StandardOutput.ReadToEndAsync();
        int seen = 0;
        using var enough = new ManualResetEventSlim();
        // A dedicated thread reads the progress lines as they come: the thread pool that asynchronous reads use can be
        // starved by the other tests running in parallel, and then the lines arrive only after the run has finished.
        var reader = new Thread(() =>
        {
            while (process.StandardError.ReadLine() is { } line)
            {
                if (line.Contains(": checkpoint ", StringComparison.Ordinal) && ++seen >= checkpointsBeforeKill) enough.Set();
            }
            enough.Set(); // end of output: the run has exited
        }) { IsBackground = true };
        reader.Start();
        Assert.True(enough.Wait(TimeSpan.FromMinutes(2)), "rnalm pretrain neither wrote a checkpoint nor exited in 2 minutes");
        if (delayMs > 0) Thread.Sleep(delayMs);
        bool running = !process.HasExited;
        if (running) process.Kill();
        process.WaitForExit();
        reader.Join();
        _output.WriteLine($"{(running ? "killed" : "finished")} after {seen} checkpoints (+{delayMs} ms)");
        return running;
    }
}
