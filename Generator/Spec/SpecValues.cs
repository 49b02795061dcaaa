using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis.Text;

namespace RnaLm.Generator.Spec;

// Parse-time helpers of SpecParser: values that remember where they were written, so a rule that
// fails can point at the right token, and the configuration a variant can change.

/// <summary>Where a value came from: its span (null when it is a default) and whether a variant set it.</summary>
internal readonly struct Origin
{
    public Origin(TextSpan? span, bool overridden)
    {
        Span = span;
        Overridden = overridden;
    }

    public TextSpan? Span { get; }

    public bool Overridden { get; }
}

/// <summary>A parsed value with its <see cref="Origin"/>.</summary>
internal readonly struct Val<T>
{
    public Val(T value, TextSpan? span, bool overridden = false)
    {
        Value = value;
        Span = span;
        Overridden = overridden;
    }

    public T Value { get; }

    public TextSpan? Span { get; }

    public bool Overridden { get; }

    public Origin Origin => new(Span, Overridden);

    public static Val<T> Default(T value) => new(value, null);
}

/// <summary>"tokenizer.alphabet": a built-in name, or "custom" with the letters written in the spec.</summary>
internal sealed class AlphabetChoice
{
    public AlphabetChoice(string name, ImmutableArray<string> letters, ImmutableArray<TextSpan> letterSpans = default)
    {
        Name = name;
        Letters = letters;
        LetterSpans = letterSpans.IsDefault ? ImmutableArray<TextSpan>.Empty : letterSpans;
    }

    public string Name { get; }

    public ImmutableArray<string> Letters { get; }

    /// <summary>Where each letter of a custom alphabet is written (empty for built-in alphabets).</summary>
    public ImmutableArray<TextSpan> LetterSpans { get; }
}

/// <summary>
/// "tokenizer.rna_types": the indicator token and the type names as written, with their spans (for rules that
/// compare them with the rest of the vocabulary).
/// </summary>
internal sealed class RnaTypesChoice
{
    public RnaTypesChoice(string indicator, TextSpan indicatorSpan, ImmutableArray<string> types, ImmutableArray<TextSpan> typeSpans)
    {
        Indicator = indicator;
        IndicatorSpan = indicatorSpan;
        Types = types;
        TypeSpans = typeSpans;
    }

    public string Indicator { get; }

    /// <summary>Where the indicator is written (the object's opening brace when it is the default).</summary>
    public TextSpan IndicatorSpan { get; }

    public ImmutableArray<string> Types { get; }

    public ImmutableArray<TextSpan> TypeSpans { get; }

    /// <summary>The vocabulary token of a type name: the name in angle brackets.</summary>
    public static string TokenOf(string type) => "<" + type + ">";
}

/// <summary>
/// The configuration values of one model: the family defaults, or a variant (a copy of them with the
/// variant's overrides). A null member means "missing or invalid; already reported".
/// </summary>
internal sealed class SpecConfig
{
    public Val<int>? Hidden;
    public Val<int>? Layers;
    public Val<int>? Heads;
    public Val<int>? Intermediate;
    /// <summary>Value null = "from_tokenizer".</summary>
    public Val<int?>? VocabSize;
    public Val<int>? MaxPositions;
    public Val<string>? MlmTransformActivation;
    /// <summary>Value null = "layer_norm_eps" (follow the model).</summary>
    public Val<double?>? MlmLayerNormEps;
    /// <summary>Value null when not written: then the default depends on the segmentation.</summary>
    public Val<AlphabetChoice?>? Alphabet;
    public Val<Kinds.KindSpec>? Segmentation;
    public Val<bool>? AddBos;
    public Val<bool>? AddEos;
    public Val<bool>? UpperCase;
    public Val<bool>? TToU;
    public Val<bool>? UToT;
    public Val<MaxLengthSpec>? ModelMaxLength;
    /// <summary>Value null = no type tokens.</summary>
    public Val<RnaTypesChoice?>? RnaTypes;
    public Val<bool>? OutputAttentionBiases;
    public Val<string>? Architecture;

    /// <summary>Values of kind fields that are configuration (a config key), by spec path ("norm.eps").</summary>
    public Dictionary<string, Val<object?>?> KindFields = new(StringComparer.Ordinal);

    /// <summary>Defaults of config-bound switches, by spec path ("embeddings.layer_norm").</summary>
    public Dictionary<string, Val<bool>?> Switches = new(StringComparer.Ordinal);

    public SpecConfig Clone()
    {
        var copy = (SpecConfig)MemberwiseClone();
        copy.KindFields = new Dictionary<string, Val<object?>?>(KindFields, StringComparer.Ordinal);
        copy.Switches = new Dictionary<string, Val<bool>?>(Switches, StringComparer.Ordinal);
        return copy;
    }

    public T? Kind<T>(string path) where T : struct =>
        KindFields.TryGetValue(path, out var v) && v is { Value: T value } ? value : null;
}
