using System;
using System.IO;
using System.Linq;
using RnaLm.IO;

namespace RnaLm.Cli;

/// <summary>
/// Checks on <c>--output</c> paths of the commands that write (embed, fold, pretrain, finetune). Paths are compared
/// as file system objects — every component resolved, then device and inode — so no spelling of an input (a link in
/// any folder of the path, <c>..</c>, a hard link) lets an output replace it.
/// </summary>
internal static class OutputPaths
{
    /// <summary>
    /// For a command that writes one file: refuses an output that is a folder, that is one of the command's input
    /// files, or that would replace a file of the checkpoint folder, and requires the output's folder to exist.
    /// Usage errors (exit code 2) for the refusals, a runtime error for the missing folder.
    /// </summary>
    /// <param name="output">The <c>--output</c> value as given.</param>
    /// <param name="checkpoint">The <c>--checkpoint</c> folder as given, or null for a command without one.</param>
    /// <param name="inputs">Input files with a description for the message, e.g. ("in.fasta", "the input FASTA file").</param>
    public static void CheckFile(string output, string? checkpoint, params (string? Path, string Description)[] inputs)
    {
        RefuseStandardOutput(output, "a file");
        var status = FileProbe.Stat(output);
        if (status.Kind == FileKind.Directory)
        {
            throw new UsageException($"--output '{output}' is a folder; give a file name such as out.safetensors.");
        }
        foreach (var (input, description) in inputs)
        {
            if (input is not null && status.Kind != FileKind.Missing && FileProbe.SameObject(output, input))
            {
                throw new UsageException($"--output '{output}' is {description} '{input}' (the same file under another path); refusing to overwrite it.");
            }
        }
        // The file is written next to the name given (a link there is replaced, not written through).
        string folder = FileProbe.RealPath(Path.GetDirectoryName(Path.GetFullPath(output))!);
        if (FileProbe.Stat(folder).Kind != FileKind.Directory)
        {
            throw new CliException($"The folder of --output '{output}' ('{folder}') does not exist.");
        }
        if (status.Kind != FileKind.Missing && checkpoint is not null && FileProbe.Stat(checkpoint).Kind == FileKind.Directory)
        {
            bool inCheckpoint = FileProbe.SameObject(folder, checkpoint)
                || Directory.EnumerateFiles(checkpoint).Any(file => FileProbe.SameObject(file, output));
            if (inCheckpoint)
            {
                throw new UsageException(
                    $"--output '{output}' is a file of the checkpoint folder '{checkpoint}'; refusing to overwrite it.");
            }
        }
    }

    /// <summary>
    /// For a command that writes a run folder (pretrain, finetune): refuses an output folder that is, or contains, one
    /// of the command's inputs (data files, the checkpoint folder it starts from), since the run writes and prunes
    /// folders inside it. A usage error (exit code 2).
    /// </summary>
    /// <param name="output">The <c>--output</c> folder as given.</param>
    /// <param name="inputs">Input files and folders with the option that names them, e.g. ("train.fasta", "--train").</param>
    public static void CheckRunFolder(string output, params (string? Path, string Option)[] inputs)
    {
        RefuseStandardOutput(output, "a folder");
        var status = FileProbe.Stat(output);
        if (status.Kind is not (FileKind.Missing or FileKind.Directory))
        {
            throw new UsageException($"--output '{output}' is a file, not a folder; give a folder for the run.");
        }
        if (status.Kind == FileKind.Missing) return;
        foreach (var (input, option) in inputs)
        {
            if (input is null || FileProbe.Stat(input).Kind == FileKind.Missing) continue;
            if (FileProbe.IsSameOrInside(input, output))
            {
                throw new UsageException(
                    $"--output '{output}' is or contains {option} '{input}'; a run writes and deletes folders inside --output, so choose another folder.");
            }
        }
    }

    /// <summary>
    /// <c>-</c> means standard output only where a command can write its result there (<c>embed</c>, <c>merge</c>); for
    /// the others it is a usage error rather than a file or folder named <c>-</c>.
    /// </summary>
    private static void RefuseStandardOutput(string output, string what)
    {
        if (TextInput.IsStandardStream(output))
        {
            throw new UsageException($"--output - (standard output) is not possible here: this command writes {what}, and its stdout carries other results; give a path.");
        }
    }

    /// <summary>Deletes temporary files an interrupted earlier write of <paramref name="output"/> left next to it, and says so.</summary>
    public static void RemoveLeftovers(CliContext context, string command, string output)
    {
        int removed = SafeTensors.RemoveLeftoverTemporaryFiles(output);
        if (removed > 0)
        {
            context.Error.WriteLine($"rnalm {command}: removed {removed} temporary file(s) an interrupted write of '{output}' left behind");
        }
    }

    /// <summary>Wraps a failure to write <paramref name="output"/> as an error naming <c>--output</c> and the reason.</summary>
    public static CliException WriteFailed(string output, Exception e) =>
        new($"Cannot write --output '{output}': {e.Message}", e);
}
