using System;
using System.Collections.Generic;
using System.IO;
using RnaLm.Checkpoints;
using RnaLm.Models;
using RnaLm.Native;

namespace RnaLm.Cli;

/// <summary>The process exit codes of <c>rnalm</c>.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The arguments were valid but the work failed (missing file, bad checkpoint, sequence too long).</summary>
    public const int Failure = 1;

    /// <summary>The arguments themselves are wrong (unknown option, conflicting options, unknown model name).</summary>
    public const int Usage = 2;
}

/// <summary>An expected runtime error; its message is printed as is, without a stack trace.</summary>
internal class CliException : Exception
{
    public CliException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>A usage error found after parsing (a value that is well-formed but not acceptable); exit code 2.</summary>
internal sealed class UsageException : CliException
{
    public UsageException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>Turns exceptions into one-line messages on stderr and an exit code.</summary>
internal static class ErrorReport
{
    public static int Write(TextWriter stderr, Exception e)
    {
        if (e is UsageException)
        {
            stderr.WriteLine($"rnalm: error: {e.Message}");
            return ExitCodes.Usage;
        }
        if (e is System.Runtime.InteropServices.ExternalException && e.Message.IndexOf("DefaultCPUAllocator", StringComparison.Ordinal) is >= 0 and int at)
        {
            // libtorch's allocator: the input asked for more memory than there is; its native stack would not help.
            stderr.WriteLine($"rnalm: error: out of memory: {e.Message[at..].Split('\n')[0].Trim()}");
            return ExitCodes.Failure;
        }
        if (IsExpected(e))
        {
            stderr.WriteLine($"rnalm: error: {MessageOf(e)}");
            return ExitCodes.Failure;
        }
        // A bug, not a user error: keep the stack trace so it can be reported.
        stderr.WriteLine($"rnalm: internal error: {e}");
        return ExitCodes.Failure;
    }

    /// <summary>The message without the " (Parameter 'name')" that .NET appends for argument exceptions: it names a
    /// parameter of the code, not anything the user gave.</summary>
    public static string MessageOf(Exception e) =>
        e is ArgumentException
            ? System.Text.RegularExpressions.Regex.Replace(e.Message, @" \(Parameter '[^']*'\)(\r?\nActual value was [^\n]*)?$", "")
            : e.Message;

    /// <summary>
    /// Errors caused by the input (files, checkpoints, sequences) rather than by a bug. Their messages name the file,
    /// key, record or position, so a stack trace would add nothing.
    /// </summary>
    private static bool IsExpected(Exception e) => e is CliException
        or ConfigException
        or CheckpointMismatchException
        or IOException // FileNotFoundException, DirectoryNotFoundException and failed writes
        or UnauthorizedAccessException
        or FormatException // FASTA, vocab.txt, tokenizer_config.json, SafeTensorsFormatException
        or KeyNotFoundException
        or ArgumentException // e.g. a sequence longer than the model's position table
        or LibTorchLoadException; // names the native library and the loader's reason
}
