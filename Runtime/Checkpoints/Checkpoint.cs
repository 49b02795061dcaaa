using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
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
        if (FileProbe.Stat(path).Kind == FileKind.Missing) throw new FileNotFoundException($"Checkpoint folder '{directory}' has no {ConfigFile}.", path);
        string json = SmallTextFile.Read(path, message => new ConfigException(message));
        var probe = ConfigJsonReader.Parse(json, path);
        string modelType = probe.GetString("model_type", "");
        if (modelType.Length == 0) throw new ConfigException($"{path}: field 'model_type' is missing, so the model family is unknown.");
        if (!registry.TryGetFamily(modelType, out var family))
        {
            throw new ConfigException($"{path}: model_type '{modelType}' is not a registered family (known: {string.Join(", ", registry.Families.Select(f => f.Name))}).");
        }
        return (family, family.ReadConfig(json, path));
    }

    /// <summary>
    /// Reads the tokenizer of a checkpoint folder and checks it against the config: the vocabulary size, and the k of
    /// a k-mer tokenizer against the config's <c>nmers</c> when it has one (null meaning single nucleotides).
    /// </summary>
    public static RnaTokenizer ReadTokenizer(string directory, IModelConfig config)
    {
        var tokenizer = RnaTokenizer.FromDirectory(directory);
        string configPath = Path.Combine(directory, ConfigFile);
        if (tokenizer.Vocabulary.Count != config.VocabSize)
        {
            throw new ConfigException(
                $"{Path.Combine(directory, VocabFile)} has {tokenizer.Vocabulary.Count} tokens but {configPath} says vocab_size {config.VocabSize}.");
        }
        if (JsonNode.Parse(config.ToJson()) is JsonObject json && json.TryGetPropertyValue("nmers", out var nmersNode))
        {
            int nmers = 1;
            if (nmersNode is not null && !(nmersNode is JsonValue value && value.TryGetValue(out nmers) && nmers >= 1))
            {
                throw new ConfigException($"{configPath}: field 'nmers' must be a positive integer or null, found {nmersNode.ToJsonString()}.");
            }
            if (nmers != tokenizer.Options.Nmers)
            {
                throw new ConfigException(
                    $"{configPath} says nmers {(nmersNode is null ? "null (single nucleotides)" : nmers)}, but " +
                    $"{Path.Combine(directory, TokenizerConfigFile)} says nmers {tokenizer.Options.Nmers} (and " +
                    $"{Path.Combine(directory, VocabFile)} holds {tokenizer.Options.Nmers}-mers); the files must agree.");
            }
        }
        return tokenizer;
    }

    /// <summary>
    /// Loads the checkpoint's pretraining model (backbone + MLM head) strictly and puts it in eval mode. The weight
    /// file is compared with the model the config describes (see <see cref="CheckWeights"/>) before the model is
    /// allocated; the model is then built without storage and the file is read straight into its parameters
    /// (<see cref="DeferredModules"/>), so nothing is initialised only to be overwritten.
    /// </summary>
    public static LoadedCheckpoint Load(string directory, ModelRegistry registry, Device? device = null)
    {
        var (family, config) = ReadConfig(directory, registry);
        var tokenizer = ReadTokenizer(directory, config);
        string[] weights = { Path.Combine(directory, WeightsFile) };
        // Every tensor of the model comes from the file: the model checked against the file's header is built without
        // storage, then given fresh storage that the file is read into (no random initialisation to overwrite, no second
        // copy of the weights).
        var model = CheckAndBuildOnMeta(config, Path.Combine(directory, ConfigFile), family.Naming, weights,
            () => family.CreatePreTrainingModel(config), m => m.Module, null);
        try
        {
            try
            {
                DeferredModules.Materialize(model.Module, torch.CPU);
            }
            catch (InvalidOperationException)
            {
                // A module the materializer cannot reach: build the usual way (initialised, then overwritten).
                model.Module.Dispose();
                model = family.CreatePreTrainingModel(config);
            }
            LoadWeights(model.Module, family.Naming, weights);
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

    /// <summary>
    /// Checks weight files against the model a config describes before that model is allocated, reading only the
    /// files' headers. First the parameter count the config implies (backbone without pooler) must fit in the values
    /// the files hold, so an absurd config is refused at once; then the model is built on the meta device (shapes, no
    /// storage) and its state-dict keys and shapes are compared with the files under the loader's rules (legacy
    /// prefixes, aliases, tied and ignored keys, <paramref name="options"/>), reporting every mismatch at once.
    /// </summary>
    /// <param name="config">The configuration the model will be built from.</param>
    /// <param name="configSource">Where it came from (its config.json), for messages.</param>
    /// <param name="naming">The family's key naming.</param>
    /// <param name="weightFiles">The safetensors files that will be loaded.</param>
    /// <param name="build">Builds the model as it will be built for real (it runs on the meta device here).</param>
    /// <param name="options">What the load may leave missing or find unexpected.</param>
    /// <exception cref="ConfigException">The config implies more parameters than the files hold.</exception>
    /// <exception cref="CheckpointMismatchException">Keys or shapes do not match.</exception>
    public static void CheckWeights(IModelConfig config, string configSource, CheckpointNaming naming, IReadOnlyList<string> weightFiles,
        Func<nn.Module> build, CheckpointLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        using var module = CheckAndBuildOnMeta(config, configSource, naming, weightFiles, build, m => m, options);
    }

    /// <summary>
    /// <see cref="CheckWeights"/>, returning the model it built on the meta device (no storage) for the caller to
    /// materialize (<see cref="DeferredModules.Materialize"/>) and load.
    /// </summary>
    private static T CheckAndBuildOnMeta<T>(IModelConfig config, string configSource, CheckpointNaming naming, IReadOnlyList<string> weightFiles,
        Func<T> build, Func<T, nn.Module> moduleOf, CheckpointLoadOptions? options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(build);
        var opened = new List<SafeTensorsFile>();
        try
        {
            foreach (var file in weightFiles)
            {
                opened.Add(SafeTensorsFile.Open(file));
            }
            long stored = opened.Sum(f => f.Tensors.Sum(t => t.ElementCount));
            long h = config.HiddenSize;
            long implied = config.CountBackboneParameters() - (h * h + h);
            if (implied > stored)
            {
                throw new ConfigException(
                    $"{configSource}: its sizes (hidden_size {config.HiddenSize}, num_hidden_layers {config.NumHiddenLayers}, " +
                    $"intermediate_size {config.IntermediateSize}, vocab_size {config.VocabSize}, max_position_embeddings " +
                    $"{config.MaxPositionEmbeddings}) imply at least {implied:N0} backbone parameters, but " +
                    $"{string.Join(" + ", opened.Select(f => f.Path))} holds {stored:N0} values in all; the config does not describe these weights.");
            }
            T built;
            try
            {
                built = DeferredModules.BuildOnMeta(build);
            }
            catch (ArgumentException e)
            {
                // A module constructor refusing a combination of values the config rules cannot see on their own.
                string reason = e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;
                throw new ConfigException($"{configSource}: {reason}", e);
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                // libtorch refusing to build a layer from these values (its first line says why).
                throw new ConfigException($"{configSource}: the model cannot be built from these values: {e.Message.Split('\n')[0].Trim()}", e);
            }
            var module = moduleOf(built);
            try
            {
                var shapes = module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
                CheckpointLoader.Verify(shapes, module.GetName(), configSource, opened, naming, options);
            }
            catch
            {
                module.Dispose();
                throw;
            }
            return built;
        }
        finally
        {
            foreach (var f in opened) f.Dispose();
        }
    }

    /// <summary>Loads one or more safetensors files into a module (see <see cref="CheckpointLoader.Load"/>).</summary>
    public static int LoadWeights(nn.Module module, CheckpointNaming naming, IEnumerable<string> files, CheckpointLoadOptions? options = null)
    {
        var opened = new List<SafeTensorsFile>();
        try
        {
            foreach (var file in files)
            {
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
