using System;
using System.IO;

namespace RnaLm.Tests;

/// <summary>
/// Locates the shared reference data (<c>../shared</c>): the directory named by the <c>RNALM_SHARED</c> environment
/// variable, or else the first <c>shared</c> directory holding <c>fixtures</c> found by walking up from the test
/// binaries. Tests read from it and never write into it.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> Shared = new(Locate);

    /// <summary>The shared directory (contains <c>fixtures/</c> and <c>data/</c>).</summary>
    public static string SharedDir => Shared.Value;

    /// <summary>The tokenizer fixtures directory (<c>fixtures/tokenizer</c>, with <c>cases.json</c> and <c>vocabs.json</c>).</summary>
    public static string Tokenizer => Path.Combine(SharedDir, "fixtures", "tokenizer");

    /// <summary>The directory of one tiny model variant (<c>fixtures/models/&lt;variant&gt;</c>).</summary>
    /// <param name="variant">The variant name, e.g. <c>splicebert</c>.</param>
    public static string Models(string variant)
    {
        string dir = Path.Combine(SharedDir, "fixtures", "models", variant);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"No model fixture '{variant}' in {Path.Combine(SharedDir, "fixtures", "models")}.");
        }
        return dir;
    }

    /// <summary>A file under the shared <c>data/</c> directory.</summary>
    /// <param name="relativePath">Path relative to <c>data/</c>, e.g. <c>ncrna/nrc_test.fasta</c>.</param>
    public static string Data(string relativePath) => Path.Combine(SharedDir, "data", relativePath);

    private static string Locate()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("RNALM_SHARED");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            if (!Directory.Exists(Path.Combine(fromEnvironment, "fixtures")))
            {
                throw new DirectoryNotFoundException(
                    $"RNALM_SHARED is '{fromEnvironment}', but that directory has no 'fixtures' folder.");
            }
            return Path.GetFullPath(fromEnvironment);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "fixtures")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException(
            $"Could not find the shared fixtures: no directory 'shared/fixtures' above {AppContext.BaseDirectory}. " +
            "Set RNALM_SHARED to the shared directory.");
    }
}
