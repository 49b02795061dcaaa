using System;
using System.IO;
using RnaLm.Cli;
using Xunit;

namespace RnaLm.Tests.Cli;

/// <summary>Runs <c>rnalm</c> in process through <see cref="Program.Run"/> with captured stdout and stderr.</summary>
public static class CliHarness
{
    /// <summary>What one run produced.</summary>
    /// <param name="ExitCode">The exit code.</param>
    /// <param name="Out">Everything written to stdout.</param>
    /// <param name="Err">Everything written to stderr.</param>
    public sealed record Result(int ExitCode, string Out, string Err);

    /// <summary>Runs the command line with <paramref name="args"/> (without the program name).</summary>
    public static Result Rnalm(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the command line and fails the test, showing stderr, unless it exits with 0.</summary>
    public static Result Succeeds(params string[] args)
    {
        var result = Rnalm(args);
        Assert.True(result.ExitCode == 0, $"rnalm {string.Join(' ', args)} exited with {result.ExitCode}: {result.Err}");
        return result;
    }

    /// <summary>
    /// Asserts a clean failure: the exit code, a message starting with <c>rnalm: error: </c> that contains every
    /// string of <paramref name="mentions"/>, and no stack trace.
    /// </summary>
    public static void AssertCleanError(Result result, int exitCode, params string[] mentions)
    {
        ArgumentNullException.ThrowIfNull(result);
        Assert.Equal(exitCode, result.ExitCode);
        Assert.StartsWith("rnalm: error: ", result.Err);
        Assert.DoesNotContain("   at ", result.Err); // no stack trace
        foreach (string mention in mentions) Assert.Contains(mention, result.Err);
    }
}
