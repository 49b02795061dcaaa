using System;
using System.IO;
using System.Linq;
using RnaLm.Cli;
using RnaLm.IO;
using RnaLm.Tests.Cli;
using RnaLm.Training;
using Xunit;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// No <c>--output</c> replaces an input, however the two paths are spelled: through a symbolic link in a parent
/// folder, <c>..</c> after a link, or a hard link. Each refusal is a usage error (exit code 2) naming the option and
/// the input, and the input is left byte for byte as it was.
/// </summary>
public sealed class OutputPathTests : IDisposable
{
    private static readonly string[] Tiny = { "--hidden", "16", "--layers", "1", "--heads", "2", "--intermediate", "32", "--max-positions", "96" };

    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-output-paths-").FullName;
    private readonly string _real;
    private readonly string _link;

    public OutputPathTests()
    {
        _real = Path.Combine(_dir, "real");
        Directory.CreateDirectory(_real);
        _link = Path.Combine(_dir, "link");
        Directory.CreateSymbolicLink(_link, _real);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Fasta(string folder, string name = "in.fasta")
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, ">a first\nGGUCUCUCUGGUUAGACC\n>b\nACGUACGUAC\n");
        return path;
    }

    private string CopyCheckpoint(string variant, string folder)
    {
        string target = Path.Combine(folder, "ckpt");
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(Fixtures.Models(variant)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        return target;
    }

    private static void Refused(CliHarness.Result result, params string[] mentions)
    {
        CliHarness.AssertCleanError(result, ExitCodes.Usage, mentions);
    }

    [Fact]
    public void EmbedRefusesToReplaceTheInputThroughALinkedParentFolder()
    {
        string input = Fasta(_real);
        string before = File.ReadAllText(input);
        string output = Path.Combine(_link, "in.fasta");
        Refused(CliHarness.Rnalm("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", input, "--output", output),
            $"--output '{output}'", "the input FASTA file", input);
        Assert.Equal(before, File.ReadAllText(input));
    }

    [Fact]
    public void EmbedRefusesDotDotAfterALinkAndAHardLink()
    {
        string sub = Path.Combine(_real, "sub");
        Directory.CreateDirectory(sub);
        string input = Fasta(_real);
        // link/sub/.. is real/sub/.. = real, so this names real/in.fasta although its text starts elsewhere.
        string viaDotDot = Path.Combine(_link, "sub", "..", "in.fasta");
        Refused(CliHarness.Rnalm("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", input, "--output", viaDotDot), "the input FASTA file");

        string hardLink = Path.Combine(_dir, "hard.fasta");
        if (OperatingSystem.IsLinux())
        {
            using (var ln = System.Diagnostics.Process.Start("ln", new[] { input, hardLink }))
            {
                ln.WaitForExit();
            }
            Refused(CliHarness.Rnalm("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", input, "--output", hardLink), "the input FASTA file");
        }
        Assert.StartsWith(">a first", File.ReadAllText(input));
    }

    [Fact]
    public void EmbedRefusesToReplaceTheWeightsThroughALinkedParentFolder()
    {
        string checkpoint = CopyCheckpoint("splicebert", _real);
        byte[] weights = File.ReadAllBytes(Path.Combine(checkpoint, "model.safetensors"));
        string output = Path.Combine(_link, "ckpt", "model.safetensors");
        Refused(CliHarness.Rnalm("embed", "--checkpoint", checkpoint, "--input", Fasta(_dir), "--output", output),
            $"--output '{output}' is a file of the checkpoint folder");
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(checkpoint, "model.safetensors")));
        // A new file in the checkpoint folder replaces nothing and is allowed.
        CliHarness.Succeeds("embed", "--checkpoint", checkpoint, "--input", Fasta(_dir), "--output", Path.Combine(_link, "ckpt", "new.safetensors"));
    }

    [Fact]
    public void FoldRefusesTheInputAndTheWeightsThroughALinkedParentFolder()
    {
        string checkpoint = CopyCheckpoint("ernierna-ss", _real);
        string input = Fasta(_real);
        string before = File.ReadAllText(input);
        Refused(CliHarness.Rnalm("fold", "--checkpoint", checkpoint, "--input", input, "--output", Path.Combine(_link, "in.fasta")),
            "the input FASTA file");
        Refused(CliHarness.Rnalm("fold", "--checkpoint", checkpoint, "--input", input, "--output", Path.Combine(_link, "ckpt", "config.json")),
            "a file of the checkpoint folder");
        Assert.Equal(before, File.ReadAllText(input));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Fixtures.Models("ernierna-ss"), "config.json")), File.ReadAllBytes(Path.Combine(checkpoint, "config.json")));
    }

    [Fact]
    public void PretrainRefusesARunFolderThatHoldsItsTrainingDataOrStartingModelThroughALink()
    {
        string run = Path.Combine(_real, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, Trainer.RunMarkerFile), "{\"format\":\"rnalm-run\"}\n");
        string train = Path.Combine(run, "train.dbn");
        File.WriteAllLines(train, SequenceFiles.Read(Fixtures.Data("pretraining/bprna_tr0.dbn")).Take(12)
            .SelectMany(r => new[] { ">" + r.Name, r.Sequence[..Math.Min(60, r.Sequence.Length)], r.Structure![..Math.Min(60, r.Structure!.Length)] }));
        string linked = Path.Combine(_link, "run");
        Refused(CliHarness.Rnalm(new[] { "pretrain", "--train", train, "--output", linked, "--steps", "1" }.Concat(Tiny).ToArray()),
            $"--output '{linked}' is or contains --train '{train}'");

        // A finished run's final/ as --init-from of a new run in the same folder: the run would replace final/.
        string first = Path.Combine(_real, "first");
        CliHarness.Succeeds(new[] { "pretrain", "--train", train, "--output", first, "--steps", "1", "--batch-size", "4" }.Concat(Tiny).ToArray());
        string final = Path.Combine(first, "final");
        byte[] weights = File.ReadAllBytes(Path.Combine(final, "model.safetensors"));
        Refused(CliHarness.Rnalm("pretrain", "--train", train, "--output", Path.Combine(_link, "first"), "--init-from", final, "--steps", "1", "--resume"),
            "is or contains --init-from");
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(final, "model.safetensors")));
    }

    [Fact]
    public void FinetuneRefusesARunFolderThatHoldsItsCheckpointThroughALink()
    {
        string train = Path.Combine(_dir, "train.dbn");
        File.WriteAllLines(train, SequenceFiles.Read(Fixtures.Data("structure/bprna_vl0.dbn")).Where(r => r.Sequence.Length <= 80).Take(8)
            .SelectMany(r => new[] { ">" + r.Name, r.Sequence, r.Structure! }));
        string pre = Path.Combine(_real, "pre");
        CliHarness.Succeeds(new[] { "pretrain", "--train", train, "--output", pre, "--steps", "1", "--batch-size", "4" }.Concat(Tiny).ToArray());
        string final = Path.Combine(pre, "final");
        byte[] weights = File.ReadAllBytes(Path.Combine(final, "model.safetensors"));
        Refused(CliHarness.Rnalm("finetune", "--task", "token", "--checkpoint", final, "--train", train, "--output", Path.Combine(_link, "pre"), "--steps", "1"),
            "is or contains --checkpoint", final);
        Refused(CliHarness.Rnalm("finetune", "--task", "token", "--checkpoint", final, "--train", train, "--output", _link, "--steps", "1"),
            "is or contains --checkpoint");
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(final, "model.safetensors")));
    }

    [Fact]
    public void AnUnwritableOutputIsAnErrorNamingOutputNotATemporaryFile()
    {
        if (!OperatingSystem.IsLinux()) return;
        // Permission bits do not stop root; sysfs refuses new files to everyone.
        bool root = Environment.UserName == "root";
        string locked = root ? "/sys" : Path.Combine(_dir, "locked");
        if (!root)
        {
            Directory.CreateDirectory(locked);
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        try
        {
            string output = Path.Combine(locked, "rnalm-out.safetensors");
            var result = CliHarness.Rnalm("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", Fasta(_dir), "--output", output);
            CliHarness.AssertCleanError(result, ExitCodes.Failure, $"Cannot write --output '{output}'");
            Assert.DoesNotContain(".tmp-", result.Err);
            Assert.Empty(Directory.GetFileSystemEntries(locked, "rnalm-out.safetensors*"));
        }
        finally
        {
            if (!root) File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void RealPathResolvesEveryComponent()
    {
        string sub = Path.Combine(_real, "sub");
        Directory.CreateDirectory(sub);
        Assert.Equal(Path.Combine(FileProbe.RealPath(_real), "x"), FileProbe.RealPath(Path.Combine(_link, "sub", "..", "x")));
        Assert.Equal(Path.Combine(FileProbe.RealPath(_real), "missing", "x"), FileProbe.RealPath(Path.Combine(_link, "missing", "x")));
        Assert.True(FileProbe.IsSameOrInside(Path.Combine(_real, "sub"), _link));
        Assert.False(FileProbe.IsSameOrInside(_dir, _link));
        string loop = Path.Combine(_dir, "loop");
        File.CreateSymbolicLink(loop, loop);
        Assert.Throws<IOException>(() => FileProbe.RealPath(Path.Combine(loop, "x")));
    }
}
