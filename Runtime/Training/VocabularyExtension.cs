using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>
/// Continuing a model with a larger vocabulary whose first tokens are the old vocabulary (e.g. a vocabulary that adds RNA
/// type tokens at its end): the old token ids keep their meaning, so every weight carries over and only the rows of the
/// new tokens (word embeddings, MLM output bias and an untied decoder) start from initialisation.
/// </summary>
public static class VocabularyExtension
{
    /// <summary>Checks that <paramref name="extended"/> starts with every token of <paramref name="original"/> at the same id.</summary>
    /// <exception cref="ArgumentException">It does not (the message names the first token that differs).</exception>
    public static void CheckExtends(Vocabulary original, Vocabulary extended, string originalName, string extendedName)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(extended);
        if (extended.Count < original.Count)
        {
            throw new ArgumentException($"The vocabulary of {extendedName} ({extended.Count} tokens) is smaller than that of {originalName} ({original.Count}); it must extend it.");
        }
        for (int id = 0; id < original.Count; id++)
        {
            if (original[id] != extended[id])
            {
                throw new ArgumentException($"The vocabulary of {extendedName} does not extend that of {originalName}: id {id} is '{extended[id]}' there and '{original[id]}' here.");
            }
        }
    }

    /// <summary><paramref name="config"/> with <c>vocab_size</c> = <paramref name="vocabSize"/>, read back with the family's validation.</summary>
    public static IModelConfig WithVocabularySize(IModelFamily family, IModelConfig config, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(config);
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        json["vocab_size"] = vocabSize;
        return family.ReadConfig(json.ToJsonString(), "extended vocabulary");
    }

    /// <summary>
    /// Copies every parameter of <paramref name="source"/> into the parameter of the same name of <paramref name="target"/>:
    /// whole when the shapes are equal; into the first rows when the first dimension is the vocabulary
    /// (<paramref name="originalRows"/> → <paramref name="extendedRows"/>) and the rest agree. Returns the names of
    /// the parameters whose new rows kept their initial values.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter is missing from the source or its shape does not fit.</exception>
    public static IReadOnlyList<string> CopyInto(nn.Module source, nn.Module target, long originalRows, long extendedRows)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var sourceParameters = source.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var grown = new List<string>();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in target.named_parameters())
        {
            if (!sourceParameters.TryGetValue(name, out var from)) throw new ArgumentException($"The original model has no parameter '{name}'.");
            if (from.shape.SequenceEqual(parameter.shape))
            {
                parameter.copy_(from);
                continue;
            }
            bool vocabularyRows = from.dim() == parameter.dim() && from.shape[0] == originalRows && parameter.shape[0] == extendedRows
                && from.shape.Skip(1).SequenceEqual(parameter.shape.Skip(1));
            if (!vocabularyRows)
            {
                throw new ArgumentException($"Parameter '{name}' has the shape [{string.Join(", ", from.shape)}] in the original model and [{string.Join(", ", parameter.shape)}] in the extended one.");
            }
            parameter.narrow(0, 0, originalRows).copy_(from);
            grown.Add(name);
        }
        return grown;
    }
}
