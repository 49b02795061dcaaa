using System;
using RnaLm.Tokenization;

namespace RnaLm.Models;

/// <summary>A registered model name: a family, its default config for this variant, and compile-time facts.</summary>
public sealed class ModelVariant : IModelVariant
{
    private readonly Func<RnaTokenizer> _tokenizer;

    public ModelVariant(string name, IModelFamily family, IModelConfig config, int? maxTokens, long parameters, Func<RnaTokenizer> tokenizer)
    {
        Name = name;
        Family = family;
        Config = config;
        MaxTokens = maxTokens;
        Parameters = parameters;
        _tokenizer = tokenizer;
    }

    public string Name { get; }

    public IModelFamily Family { get; }

    public IModelConfig Config { get; }

    public int? MaxTokens { get; }

    public long Parameters { get; }

    public RnaTokenizer CreateTokenizer() => _tokenizer();

    public override string ToString() => Name;
}
