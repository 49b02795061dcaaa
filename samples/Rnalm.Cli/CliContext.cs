using System;
using System.IO;
using RnaLm.Models;

namespace RnaLm.Cli;

/// <summary>What every command needs: its output writers and the registry of compiled-in models.</summary>
/// <param name="Out">Results (tables, JSON).</param>
/// <param name="Error">Errors, warnings and progress summaries.</param>
/// <param name="Registry">The model families and variants known to this build.</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, ModelRegistry Registry)
{
    /// <summary>Opens standard output for binary results (<c>--output -</c>); <see cref="Out"/> is flushed first.</summary>
    public Func<Stream> OpenStandardOutput { get; init; } = Console.OpenStandardOutput;

    /// <summary>Whether <see cref="Error"/> is the process's terminal (progress is then drawn as a bar in place).</summary>
    public bool ErrorIsTerminal => ReferenceEquals(Error, Console.Error) && RnaLm.Training.ProgressReporter.StderrIsTerminal;
}
