using System.IO;
using RnaLm.Models;

namespace RnaLm.Cli;

/// <summary>What every command needs: its output writers and the registry of compiled-in models.</summary>
/// <param name="Out">Results (tables, JSON).</param>
/// <param name="Error">Errors, warnings and progress summaries.</param>
/// <param name="Registry">The model families and variants known to this build.</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, ModelRegistry Registry);
