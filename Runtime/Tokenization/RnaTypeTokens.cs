using System;
using System.Collections.Generic;
using System.Linq;

namespace RnaLm.Tokenization;

/// <summary>
/// Coarse RNA types as extra special tokens of a vocabulary (spec field <c>tokenizer.rna_types</c>, RNAErnie's type-guided
/// input): an indicator token, then one token <c>&lt;name&gt;</c> per type. A typed input is
/// <c>&lt;cls&gt; sequence &lt;indicator&gt; &lt;type&gt; &lt;eos&gt;</c>; with <c>&lt;mask&gt;</c> in place of the type token the
/// masked-language-model head predicts the type. Saved in <c>tokenizer_config.json</c> as <c>rna_types</c>
/// (<c>{"indicator": "&lt;ind&gt;", "types": [...]}</c>) and as <c>additional_special_tokens</c>.
/// </summary>
public sealed class RnaTypeTokens : IEquatable<RnaTypeTokens>
{
    private readonly string[] _types;

    /// <param name="indicator">The indicator token, <c>&lt;name&gt;</c>.</param>
    /// <param name="types">The type names (letters, digits, '_', '-', '.'), distinct, at least one.</param>
    /// <exception cref="ArgumentException">A token is malformed, a type repeats, or there are no types.</exception>
    public RnaTypeTokens(string indicator, IReadOnlyList<string> types)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        ArgumentNullException.ThrowIfNull(types);
        if (indicator.Length < 3 || indicator[0] != '<' || indicator[^1] != '>' || !IsName(indicator[1..^1]))
        {
            throw new ArgumentException($"The RNA type indicator '{indicator}' is not a token of the form <name>.", nameof(indicator));
        }
        if (types.Count == 0) throw new ArgumentException("There are no RNA types.", nameof(types));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string type in types)
        {
            if (type is null || !IsName(type)) throw new ArgumentException($"RNA type '{type}' is not a name of letters, digits, '_', '-' and '.'.", nameof(types));
            if (!seen.Add(type)) throw new ArgumentException($"RNA type '{type}' appears twice.", nameof(types));
            if (TokenOf(type) == indicator) throw new ArgumentException($"RNA type '{type}' has the indicator's token {indicator}.", nameof(types));
        }
        Indicator = indicator;
        _types = types.ToArray();
    }

    /// <summary>The indicator token.</summary>
    public string Indicator { get; }

    /// <summary>The type names, in vocabulary order.</summary>
    public IReadOnlyList<string> Types => _types;

    /// <summary>Number of types.</summary>
    public int Count => _types.Length;

    /// <summary>The token of type <paramref name="index"/>.</summary>
    public string Token(int index) => TokenOf(_types[index]);

    /// <summary>The indicator and every type token, in vocabulary order.</summary>
    public IEnumerable<string> AllTokens => new[] { Indicator }.Concat(_types.Select(TokenOf));

    /// <summary>The index of a type name (ordinal), or −1.</summary>
    public int IndexOf(string type) => Array.IndexOf(_types, type);

    /// <summary>The vocabulary token of a type name: the name in angle brackets.</summary>
    public static string TokenOf(string type) => "<" + type + ">";

    private static bool IsName(string name)
    {
        if (name.Length == 0 || name.Length > 40 || !char.IsAsciiLetterOrDigit(name[0])) return false;
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')) return false;
        }
        return true;
    }

    public bool Equals(RnaTypeTokens? other) =>
        other is not null && Indicator == other.Indicator && _types.AsSpan().SequenceEqual(other._types);

    public override bool Equals(object? obj) => Equals(obj as RnaTypeTokens);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Indicator, StringComparer.Ordinal);
        foreach (string t in _types) hash.Add(t, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    public override string ToString() => $"{Indicator} {string.Join(" ", _types.Select(TokenOf))}";
}
