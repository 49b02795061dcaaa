using System;
using System.CommandLine.Parsing;
using System.Globalization;

namespace RnaLm.Cli;

/// <summary>
/// Parsers for numeric options that reject bad values as parse errors (exit code 2) with a message naming the
/// option. Range checks live here rather than in validators because System.CommandLine runs validators even when the
/// value could not be converted.
/// </summary>
internal static class OptionParsers
{
    /// <summary>A whole number of at least <paramref name="minimum"/>.</summary>
    public static Func<ArgumentResult, int> AtLeast(string option, int minimum) => result =>
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            result.AddError($"{option} expects a whole number, not '{text}'.");
            return minimum;
        }
        if (value < minimum)
        {
            result.AddError($"{option} must be at least {minimum} (got {value}).");
        }
        return value;
    };

    /// <summary>An optional whole number of at least <paramref name="minimum"/>.</summary>
    public static Func<ArgumentResult, int?> OptionalAtLeast(string option, int minimum)
    {
        var parse = AtLeast(option, minimum);
        return result => result.Tokens.Count == 0 ? null : parse(result);
    }
}
