using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Models;

/// <summary>Checkpoint folders load strictly; every mismatch is reported at once with the key and the file.</summary>
public sealed class CheckpointLoadingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnalm-ckpt-" + Guid.NewGuid().ToString("N"));

    public CheckpointLoadingTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Copies a fixture folder and rewrites its weights through <paramref name="edit"/>.</summary>
    private string CopyFixture(string variant, Action<Dictionary<string, Tensor>>? edit = null)
    {
        string source = Fixtures.Models(variant);
        string target = Path.Combine(_dir, variant);
        Directory.CreateDirectory(target);
        foreach (var file in new[] { "config.json", "vocab.txt", "tokenizer_config.json" })
        {
            File.Copy(Path.Combine(source, file), Path.Combine(target, file));
        }
        var tensors = SafeTensors.LoadAll(Path.Combine(source, "model.safetensors"));
        edit?.Invoke(tensors);
        SafeTensors.Save(Path.Combine(target, "model.safetensors"), tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return target;
    }

    [Fact]
    public void ReportsMissingUnexpectedAndMisshapenKeysTogether()
    {
        string dir = CopyFixture("splicebert", t =>
        {
            t.Remove("model.encoder.layer.1.output.dense.bias");
            t["model.encoder.layer.9.extra.weight"] = zeros(3);
            t["model.embeddings.layer_norm.weight"] = ones(7);
        });
        var e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(dir, ModelCatalog.Registry));
        Assert.Equal(new[] { "model.encoder.layer.1.output.dense.bias" }, e.Missing);
        Assert.Equal(new[] { "model.encoder.layer.9.extra.weight" }, e.Unexpected);
        Assert.Single(e.ShapeMismatches);
        Assert.Contains("model.embeddings.layer_norm.weight: checkpoint [7]", e.Message);
        Assert.Contains("model [32]", e.Message);
        Assert.Contains(Path.Combine(dir, "model.safetensors"), e.Message);
    }

    [Fact]
    public void AWeightFileCutShortAfterOpeningIsReportedByNameOnEveryReadingThread()
    {
        string dir = CopyFixture("splicebert");
        string weights = Path.Combine(dir, "model.safetensors");
        var variant = ModelCatalog.Registry.GetVariant("splicebert");
        var config = Checkpoint.ReadConfig(dir, ModelCatalog.Registry).Config;
        using var model = variant.Family.CreatePreTrainingModel(config).Module;
        int threads = get_num_threads();
        set_num_threads(2); // the loader reads on as many threads as libtorch may use
        try
        {
            using var file = SafeTensorsFile.Open(weights);
            using (var stream = new FileStream(weights, FileMode.Open, FileAccess.Write)) stream.SetLength(stream.Length / 2);
            var e = Assert.Throws<SafeTensorsFormatException>(() => CheckpointLoader.Load(model, new[] { file }, variant.Family.Naming));
            Assert.Contains(weights, e.Message);
            Assert.Contains("ended at byte", e.Message);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void LegacyPrefixLoadsAsCurrentPrefix()
    {
        string dir = CopyFixture("splicebert", t =>
        {
            foreach (var key in t.Keys.Where(k => k.StartsWith("model.", StringComparison.Ordinal)).ToList())
            {
                t["splicebert." + key.Substring("model.".Length)] = t[key];
                t.Remove(key);
            }
        });
        using var legacy = Checkpoint.Load(dir, ModelCatalog.Registry);
        using var current = Checkpoint.Load(Fixtures.Models("splicebert"), ModelCatalog.Registry);
        using var _ = inference_mode();
        var ids = tensor(new long[] { 1, 6, 7, 8, 9, 2 }).unsqueeze(0);
        using var a = legacy.Model.Forward(ids);
        using var b = current.Model.Forward(ids);
        Assert.True(a.Logits.eq(b.Logits).all().item<bool>());
    }

    [Fact]
    public void TiedDecoderIsFilledAndSharesTheEmbedding()
    {
        using var loaded = Checkpoint.Load(Fixtures.Models("rnaernie"), ModelCatalog.Registry);
        var sd = loaded.Model.Module.state_dict();
        Assert.True(sd["lm_head.decoder.weight"].eq(sd["model.embeddings.word_embeddings.weight"]).all().item<bool>());
        Assert.True(sd["lm_head.decoder.bias"].eq(sd["lm_head.bias"]).all().item<bool>());
    }

    [Fact]
    public void IgnoredBuffersInFilesAreAccepted()
    {
        string dir = CopyFixture("splicebert", t => t["model.embeddings.position_ids"] = arange(40).unsqueeze(0));
        using var loaded = Checkpoint.Load(dir, ModelCatalog.Registry);
        Assert.Equal("splicebert", loaded.Config.ModelType);
    }

    [Fact]
    public void VocabularyLengthMustMatchConfig()
    {
        string dir = CopyFixture("splicebert");
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), File.ReadAllLines(Path.Combine(dir, "vocab.txt")).Take(26));
        var e = Assert.Throws<ConfigException>(() => Checkpoint.Load(dir, ModelCatalog.Registry));
        Assert.Contains("26 tokens", e.Message);
        Assert.Contains("vocab_size 28", e.Message);
    }

    [Fact]
    public void UnknownModelTypeNamesTheFileAndTheKnownFamilies()
    {
        string dir = CopyFixture("splicebert");
        File.WriteAllText(Path.Combine(dir, "config.json"), File.ReadAllText(Path.Combine(dir, "config.json")).Replace("\"splicebert\"", "\"nosuchbert\""));
        var e = Assert.Throws<ConfigException>(() => Checkpoint.Load(dir, ModelCatalog.Registry));
        Assert.Contains("nosuchbert", e.Message);
        Assert.Contains("splicebert", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void MissingFolderAndWeightsAreClearErrors()
    {
        Assert.Throws<DirectoryNotFoundException>(() => Checkpoint.Load(Path.Combine(_dir, "absent"), ModelCatalog.Registry));
        string dir = CopyFixture("splicebert");
        File.Delete(Path.Combine(dir, "model.safetensors"));
        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(dir, ModelCatalog.Registry));
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void SequenceLongerThanLearnedPositionsIsRejected()
    {
        using var loaded = Checkpoint.Load(Fixtures.Models("splicebert"), ModelCatalog.Registry);
        var ids = ones(1, 41, ScalarType.Int64) * 6;
        var e = Assert.Throws<ArgumentException>(() => loaded.Model.Forward(ids).Dispose());
        Assert.Contains("41 tokens", e.Message);
        Assert.Contains("max_position_embeddings 40", e.Message);
    }
}
