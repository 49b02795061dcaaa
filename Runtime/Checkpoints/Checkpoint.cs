using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Checkpoints;

/// <summary>A model loaded from a MultiMolecule checkpoint folder, ready for inference (eval mode).</summary>
public sealed class LoadedCheckpoint : IDisposable
{
    internal LoadedCheckpoint(string directory, IModelFamily family, IModelConfig config, RnaTokenizer tokenizer, IRnaMaskedLM model)
    {
        Directory = directory;
        Family = family;
        Config = config;
        Tokenizer = tokenizer;
        Model = model;
    }

    public string Directory { get; }

    public IModelFamily Family { get; }

    public IModelConfig Config { get; }

    public RnaTokenizer Tokenizer { get; }

    public IRnaMaskedLM Model { get; }

    public void Dispose() => Model.Module.Dispose();
}

/// <summary>Reads MultiMolecule checkpoint folders: <c>config.json</c>, <c>vocab.txt</c>, <c>tokenizer_config.json</c>, <c>model.safetensors</c>.</summary>
public static class Checkpoint
{
    public const string ConfigFile = "config.json";
    public const string VocabFile = "vocab.txt";
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string WeightsFile = "model.safetensors";

    /// <summary>Reads <c>config.json</c> and finds the family by its <c>model_type</c>.</summary>
    public static (IModelFamily Family, IModelConfig Config) ReadConfig(string directory, ModelRegistry registry)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Checkpoint folder '{directory}' does not exist.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint folder '{directory}' has no {ConfigFile}.", path);
        string json = File.ReadAllText(path);
        var probe = ConfigJsonReader.Parse(json, path);
        string modelType = probe.GetString("model_type", "");
        if (modelType.Length == 0) throw new ConfigException($"{path}: field 'model_type' is missing, so the model family is unknown.");
        if (!registry.TryGetFamily(modelType, out var family))
        {
            throw new ConfigException($"{path}: model_type '{modelType}' is not a registered family (known: {string.Join(", ", registry.Families.Select(f => f.Name))}).");
        }
        return (family, family.ReadConfig(json, path));
    }

    /// <summary>Reads the tokenizer of a checkpoint folder and checks its vocabulary against the config.</summary>
    public static RnaTokenizer ReadTokenizer(string directory, IModelConfig config)
    {
        var tokenizer = RnaTokenizer.FromDirectory(directory);
        if (tokenizer.Vocabulary.Count != config.VocabSize)
        {
            throw new ConfigException(
                $"{Path.Combine(directory, VocabFile)} has {tokenizer.Vocabulary.Count} tokens but {Path.Combine(directory, ConfigFile)} says vocab_size {config.VocabSize}.");
        }
        return tokenizer;
    }

    /// <summary>Loads the checkpoint's pretraining model (backbone + MLM head) strictly and puts it in eval mode.</summary>
    public static LoadedCheckpoint Load(string directory, ModelRegistry registry, Device? device = null)
    {
        var (family, config) = ReadConfig(directory, registry);
        var tokenizer = ReadTokenizer(directory, config);
        var model = family.CreatePreTrainingModel(config);
        try
        {
            LoadWeights(model.Module, family.Naming, new[] { Path.Combine(directory, WeightsFile) });
            if (device is not null) model.Module.to(device);
            model.Module.eval();
        }
        catch
        {
            model.Module.Dispose();
            throw;
        }
        return new LoadedCheckpoint(directory, family, config, tokenizer, model);
    }

    /// <summary>Loads one or more safetensors files into a module (see <see cref="CheckpointLoader.Load"/>).</summary>
    public static int LoadWeights(nn.Module module, CheckpointNaming naming, IEnumerable<string> files, CheckpointLoadOptions? options = null)
    {
        var opened = new List<SafeTensorsFile>();
        try
        {
            foreach (var file in files)
            {
                if (!File.Exists(file)) throw new FileNotFoundException($"Weights file '{file}' does not exist.", file);
                opened.Add(SafeTensorsFile.Open(file));
            }
            return CheckpointLoader.Load(module, opened, naming, options);
        }
        finally
        {
            foreach (var f in opened) f.Dispose();
        }
    }
}
