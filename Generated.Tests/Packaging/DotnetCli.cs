using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using Xunit.Abstractions;

namespace RnaLm.Tests.Packaging;

/// <summary>The result of one <c>dotnet</c> command: exit code, standard output and error together, and duration.</summary>
internal sealed record DotnetResult(int ExitCode, string Output, TimeSpan Elapsed);

/// <summary>
/// Runs the <c>dotnet</c> that runs the tests (<c>DOTNET_HOST_PATH</c>, else the one on PATH) as a child process
/// without the MSBuild settings of the test host, which runs inside MSBuild/VSTest and would otherwise leak into it.
/// </summary>
internal static class DotnetCli
{
    private static readonly string[] MSBuildVariables =
    {
        "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly", "MSBUILDNOINPROCNODE",
    };

    /// <summary>The dotnet host executable.</summary>
    public static string Host =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="workingDirectory"/>.</summary>
    /// <param name="workingDirectory">The child's working directory.</param>
    /// <param name="timeout">How long it may run before it is killed (and a <see cref="TimeoutException"/> thrown).</param>
    /// <param name="environment">Variables to set (a null value removes the variable).</param>
    /// <param name="log">Receives one line per command with its exit code and duration.</param>
    /// <param name="args">The arguments, e.g. <c>build</c>, a project, options.</param>
    public static DotnetResult Run(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?> environment, ITestOutputHelper log, params string[] args)
    {
        var start = new ProcessStartInfo(Host)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (string name in MSBuildVariables) start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Host}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(" ", args)} did not finish in {timeout.TotalMinutes} minutes.");
        }
        process.WaitForExit();
        var result = new DotnetResult(process.ExitCode, stdout.Result + stderr.Result, watch.Elapsed);
        log.WriteLine($"dotnet {string.Join(" ", args)}: exit {result.ExitCode} in {result.Elapsed.TotalSeconds:F1} s");
        return result;
    }
}
