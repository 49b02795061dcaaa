using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace RnaLm.Checkpoints;

/// <summary>A regex rename applied to checkpoint keys (e.g. a layer renamed between converter versions).</summary>
public sealed record KeyAlias(string Pattern, string Replacement)
{
    private Regex? _regex;

    internal Regex Regex => _regex ??= new Regex(Pattern, RegexOptions.CultureInvariant);
}

/// <summary>A key a file may omit because it is the same tensor as <paramref name="Source"/> (weight tying).</summary>
public sealed record TiedKey(string Key, string Source);

/// <summary>How a family's state-dict keys are named in checkpoint files (generated from the spec's "checkpoint" section).</summary>
/// <param name="Prefix">Backbone prefix without the dot, e.g. "model".</param>
/// <param name="LegacyPrefixes">Older backbone prefixes that load as <paramref name="Prefix"/>.</param>
/// <param name="Aliases">Regex renames for legacy key names, applied after the prefix is normalised.</param>
/// <param name="Tied">Keys filled from another key when absent.</param>
/// <param name="Ignore">Keys allowed in files that are not parameters (non-persistent buffers of the reference).</param>
public sealed record CheckpointNaming(
    string Prefix,
    IReadOnlyList<string> LegacyPrefixes,
    IReadOnlyList<KeyAlias> Aliases,
    IReadOnlyList<TiedKey> Tied,
    IReadOnlyList<string> Ignore)
{
    /// <summary>Maps a key as stored in a file to the current name (legacy prefix replaced, aliases applied).</summary>
    public string Normalize(string fileKey)
    {
        string key = fileKey;
        foreach (var legacy in LegacyPrefixes)
        {
            if (key.StartsWith(legacy + ".", StringComparison.Ordinal))
            {
                key = Prefix + key.Substring(legacy.Length);
                break;
            }
        }
        foreach (var alias in Aliases)
        {
            key = alias.Regex.Replace(key, alias.Replacement);
        }
        return key;
    }

    public bool IsIgnored(string key)
    {
        foreach (var ignored in Ignore)
        {
            if (string.Equals(ignored, key, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
