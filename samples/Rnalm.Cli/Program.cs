using System;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.IO;
using RnaLm.Cli.Commands;
using RnaLm.Models;

namespace RnaLm.Cli;

/// <summary>
/// The <c>rnalm</c> command line: lists the registered models, tokenizes text, embeds FASTA files and fills masks.
/// Exit codes: 0 success, 1 runtime error (bad file, checkpoint, sequence), 2 usage error (bad arguments).
/// </summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs the command line with the given writers and standard streams: <paramref name="stdin"/> is what <c>-</c>
    /// reads, <paramref name="binaryStdout"/> what <c>--output -</c> writes binary results to (null: the process's own).
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Func<Stream>? stdin, Func<Stream>? binaryStdout)
    {
        var previous = RnaLm.IO.TextInput.StandardInput;
        RnaLm.IO.TextInput.StandardInput = stdin;
        try
        {
            return Run(args, stdout, stderr, binaryStdout ?? Console.OpenStandardOutput);
        }
        finally
        {
            RnaLm.IO.TextInput.StandardInput = previous;
        }
    }

    /// <summary>Runs the command line with the given writers (tests capture output this way, in process).</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Where results and help go.</param>
    /// <param name="stderr">Where errors, warnings and summaries go.</param>
    /// <returns>The exit code (see <see cref="ExitCodes"/>).</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, Console.OpenStandardOutput);

    private static int Run(string[] args, TextWriter stdout, TextWriter stderr, Func<Stream> binaryStdout)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var context = new CliContext(stdout, stderr, ModelCatalog.Registry) { OpenStandardOutput = binaryStdout };
        var root = BuildRootCommand(context);
        var threads = TorchSetup.ThreadsOption();
        root.Options.Add(threads);
        // No response files: an argument starting with '@' is a sequence or a path like any other.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"rnalm: error: {error.Message}");
            }
            string path = CommandPath(parse.CommandResult.Command, root);
            stderr.WriteLine($"Run '{path} --help' for usage.");
            return ExitCodes.Usage;
        }

        try
        {
            TorchSetup.Threads = parse.GetValue(threads) ?? TorchSetup.DefaultThreads();
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (Exception e)
        {
            return ErrorReport.Write(stderr, e);
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }

    /// <summary>The root command with every subcommand.</summary>
    internal static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand(
            "rnalm: RNA language models (SpliceBERT, ERNIE-RNA, RNAErnie, ncRNABert) declared as specs and run with TorchSharp.");
        root.Subcommands.Add(ModelsCommand.Create(context));
        root.Subcommands.Add(TokenizeCommand.Create(context));
        root.Subcommands.Add(EmbedCommand.Create(context));
        root.Subcommands.Add(MergeCommand.Create(context));
        root.Subcommands.Add(FillMaskCommand.Create(context));
        root.Subcommands.Add(PretrainCommand.Create(context));
        root.Subcommands.Add(FinetuneCommand.Create(context));
        root.Subcommands.Add(EvaluateCommand.Create(context));
        root.Subcommands.Add(PredictCommand.Create(context));
        root.Subcommands.Add(FoldCommand.Create(context));
        return root;
    }

    private static string CommandPath(Command command, RootCommand root) =>
        ReferenceEquals(command, root) ? "rnalm" : $"rnalm {command.Name}";
}
