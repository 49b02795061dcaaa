using System;
using System.IO;

namespace RnaLm.Cli;

/// <summary>Checks on <c>--output</c> paths shared by the commands that write files (embed, fold).</summary>
internal static class OutputPaths
{
    /// <summary>
    /// Refuses an output path that is a folder, that names one of the command's input files, or that would replace a
    /// file of the checkpoint folder, and requires the output's folder to exist. Usage errors (exit code 2) for the
    /// refusals, a runtime error for the missing folder.
    /// </summary>
    /// <param name="output">The <c>--output</c> value as given.</param>
    /// <param name="checkpoint">The <c>--checkpoint</c> folder as given.</param>
    /// <param name="inputs">Input files with a description for the message, e.g. ("in.fasta", "the input FASTA file").</param>
    public static void Check(string output, string checkpoint, params (string? Path, string Description)[] inputs)
    {
        string full = Path.GetFullPath(output);
        if (Directory.Exists(full))
        {
            throw new UsageException($"--output '{output}' is a folder; give a file name such as out.safetensors.");
        }
        foreach (var (input, description) in inputs)
        {
            if (input is not null && SameFile(full, Path.GetFullPath(input)))
            {
                throw new UsageException($"--output '{output}' is {description}; refusing to overwrite it.");
            }
        }
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            throw new CliException($"The folder of --output '{output}' ('{folder}') does not exist.");
        }
        if (File.Exists(full) && SameFile(folder, Path.GetFullPath(checkpoint)))
        {
            throw new UsageException(
                $"--output '{output}' is a file of the checkpoint folder '{checkpoint}'; refusing to overwrite it.");
        }
    }

    /// <summary>Whether two full paths name the same file or folder, following symbolic links when they exist.</summary>
    private static bool SameFile(string a, string b)
    {
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return string.Equals(Resolve(a), Resolve(b), comparison);

        static string Resolve(string path)
        {
            string trimmed = Path.TrimEndingDirectorySeparator(path);
            FileSystemInfo info = Directory.Exists(trimmed) ? new DirectoryInfo(trimmed) : new FileInfo(trimmed);
            return info.Exists && info.ResolveLinkTarget(returnFinalTarget: true) is { } target
                ? Path.TrimEndingDirectorySeparator(target.FullName)
                : trimmed;
        }
    }
}
