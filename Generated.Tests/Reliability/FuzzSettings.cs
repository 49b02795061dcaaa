using System;
using System.Globalization;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// How many cases each seeded fuzz test runs: its own default (sized for CI), or the number in the
/// <c>RNALM_FUZZ_CASES</c> environment variable (e.g. 10000 for a long local run). The seed is fixed, so a failure
/// repeats; <c>RNALM_FUZZ_SEED</c> picks another sequence of cases.
/// </summary>
internal static class FuzzSettings
{
    public const string CasesVariable = "RNALM_FUZZ_CASES";
    public const string SeedVariable = "RNALM_FUZZ_SEED";

    public static int Cases(int ciDefault)
    {
        string? text = Environment.GetEnvironmentVariable(CasesVariable);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int cases) && cases > 0 ? cases : ciDefault;
    }

    public static int Seed(int fixedSeed)
    {
        string? text = Environment.GetEnvironmentVariable(SeedVariable);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) ? seed : fixedSeed;
    }
}
