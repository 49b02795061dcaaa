using System.Collections.Generic;
using RnaLm.Checkpoints;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Models;

/// <summary>A transformer backbone: token ids in, hidden states out.</summary>
public interface IRnaBackbone
{
    /// <summary>Runs the backbone.</summary>
    /// <param name="inputIds">[B, L] int64 token ids.</param>
    /// <param name="attentionMask">[B, L] 1 = real token, 0 = padding; null derives it as <c>inputIds != pad</c>.</param>
    /// <param name="request">Optional outputs to return.</param>
    BackboneOutput Forward(Tensor inputIds, Tensor? attentionMask = null, OutputRequest request = OutputRequest.None);

    int HiddenSize { get; }

    int NumLayers { get; }

    int NumHeads { get; }
}

/// <summary>A backbone with its masked-language-model head (the class MultiMolecule checkpoints are saved from).</summary>
public interface IRnaMaskedLM
{
    IRnaBackbone Backbone { get; }

    MaskedLMOutput Forward(Tensor inputIds, Tensor? attentionMask = null, OutputRequest request = OutputRequest.None);

    /// <summary>The TorchSharp module (for loading, <c>eval()</c>, <c>to(device)</c>, parameters).</summary>
    nn.Module Module { get; }
}

/// <summary>A family's configuration object (generated per spec).</summary>
public interface IModelConfig
{
    /// <summary>MultiMolecule <c>model_type</c>.</summary>
    string ModelType { get; }

    int VocabSize { get; }

    int HiddenSize { get; }

    int NumHiddenLayers { get; }

    int NumAttentionHeads { get; }

    int IntermediateSize { get; }

    int MaxPositionEmbeddings { get; }

    int PadTokenId { get; }

    /// <summary>Parameters of the backbone including a pooler, as on the model cards (stored rotary frequencies excluded).</summary>
    long CountBackboneParameters();

    /// <summary>
    /// FLOPs of one forward pass of the pretraining model (backbone, pooler, MLM head) over one sequence of
    /// <paramref name="length"/> tokens, two per multiply-add of every matrix product (docs/model-facts.md).
    /// </summary>
    long ForwardFlops(int length);

    /// <summary>Writes the config as MultiMolecule/HF <c>config.json</c> text (unknown fields read earlier are kept).</summary>
    string ToJson();
}

/// <summary>One registered model name (a family's variant), as listed by <c>rnalm models</c>.</summary>
public interface IModelVariant
{
    string Name { get; }

    IModelFamily Family { get; }

    /// <summary>The variant's default configuration (spec defaults with the variant's overrides).</summary>
    IModelConfig Config { get; }

    /// <summary>Maximum tokens per sequence (special tokens included), or null when unbounded.</summary>
    int? MaxTokens { get; }

    /// <summary>Parameters of the backbone including a pooler (as on the model cards), computed at compile time.</summary>
    long Parameters { get; }

    /// <summary>The tokenizer this variant ships with (vocabulary and options from the spec).</summary>
    RnaTokenizer CreateTokenizer();
}

/// <summary>A model family generated from one spec.</summary>
public interface IModelFamily
{
    /// <summary>The family name (<c>model_type</c>).</summary>
    string Name { get; }

    string Description { get; }

    IReadOnlyList<IModelVariant> Variants { get; }

    /// <summary>How this family's checkpoint keys are named (prefix, legacy prefixes, aliases, tied keys).</summary>
    CheckpointNaming Naming { get; }

    /// <summary>Reads a MultiMolecule <c>config.json</c>; values in the file override the spec defaults.</summary>
    IModelConfig ReadConfig(string json, string sourceName);

    /// <summary>Builds the model a published checkpoint holds (backbone, pooler when the checkpoint has one, MLM head).</summary>
    IRnaMaskedLM CreatePreTrainingModel(IModelConfig config);

    /// <summary>Builds a backbone (with a pooler for sequence tasks) and one task head with <paramref name="numLabels"/> outputs.</summary>
    IRnaPredictionModel CreatePredictionModel(IModelConfig config, PredictionTask task, int numLabels);
}
