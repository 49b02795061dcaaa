using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using RnaLm.Models;
using RnaLm.Modules;
using RnaLm.Tests.Generator;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Facts;

/// <summary>
/// Compile-time facts of the generated configs (docs/model-facts.md): parameter constants against the structure
/// fixtures, the FLOPs formula against a count taken from a real forward pass, and the model-card table against
/// docs/models.md.
/// </summary>
public sealed class ModelFactsTests
{
    // Compile-time constants: these lines only compile because the generator emits const fields.
    private const long SpliceBertParameters = SpliceBertConfig.SpliceBertParameters;
    private const string CardTable = ModelCatalog.ModelCardTable;

    /// <summary>The generated members of one registered variant, found through its <c>{Type}Variants.{Member}Name</c> constant.</summary>
    private sealed record VariantMembers(Type Config, Type Variants, string Member)
    {
        public long ConfigParameters => (long)Config.GetField(Member + "Parameters")!.GetRawConstantValue()!;

        public long VariantsParameters => (long)Variants.GetField(Member + "Parameters")!.GetRawConstantValue()!;

        public long ConfigFlops(int length) => (long)Config.GetMethod(Member + "ForwardFlops")!.Invoke(null, new object[] { length })!;

        public long VariantsFlops(int length) => (long)Variants.GetMethod(Member + "ForwardFlops")!.Invoke(null, new object[] { length })!;
    }

    private static VariantMembers Members(IModelVariant variant)
    {
        var config = variant.Config.GetType();
        string typeName = config.Name.Substring(0, config.Name.Length - "Config".Length);
        var variants = config.Assembly.GetType(config.Namespace + "." + typeName + "Variants", throwOnError: true)!;
        var nameField = variants.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Single(f => f.IsLiteral && f.Name.EndsWith("Name", StringComparison.Ordinal) && (string?)f.GetRawConstantValue() == variant.Name);
        return new VariantMembers(config, variants, nameField.Name.Substring(0, nameField.Name.Length - "Name".Length));
    }

    public static IEnumerable<object[]> StructureFixtures() =>
        Parity.StructureVariants.Supported.Where(v => ModelCatalog.Registry.Variants.Any(x => x.Name == v)).Select(v => new object[] { v });

    [Theory]
    [MemberData(nameof(StructureFixtures))]
    public void ParameterConstantsEqualTheStructureFixtureCounts(string variant)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.SharedDir, "fixtures", "structure", variant + ".json")));
        var baseModel = doc.RootElement.GetProperty("base_model");
        long withoutFreqs = (baseModel.TryGetProperty("num_parameters_excluding_rotary_freqs", out var excluding) ? excluding : baseModel.GetProperty("num_parameters")).GetInt64();
        long all = baseModel.GetProperty("num_parameters").GetInt64();
        var registered = ModelCatalog.Registry.GetVariant(variant);
        var members = Members(registered);

        Assert.Equal(withoutFreqs, members.ConfigParameters);
        Assert.Equal(withoutFreqs, members.VariantsParameters);
        Assert.Equal(withoutFreqs, registered.Parameters);
        Assert.Equal(withoutFreqs, registered.Config.CountBackboneParameters());
        // num_parameters adds only the stored rotary frequencies: rotary_dim / 2 per layer.
        long freqs = baseModel.GetProperty("state_dict").EnumerateArray()
            .Where(e => e[0].GetString()!.EndsWith(".rotary_embeddings.freqs", StringComparison.Ordinal))
            .Sum(e => e[1].EnumerateArray().Aggregate(1L, (p, x) => p * x.GetInt64()));
        Assert.Equal(all, withoutFreqs + freqs);
    }

    [Fact]
    public void ParameterConstantsAreUsableAsConstants()
    {
        Assert.Equal(19_718_656L, SpliceBertParameters);
        Assert.Equal(19_455_488L, SpliceBertVariants.SpliceBert510Parameters);
        Assert.Equal(303_313_920L, NcRnaBertConfig.NcRnaBertParameters);
        Assert.StartsWith("| model | family |", CardTable, StringComparison.Ordinal);
    }

    public static IEnumerable<object[]> RegisteredVariants() => ModelCatalog.Registry.Variants.Select(v => new object[] { v.Name });

    [Theory]
    [MemberData(nameof(RegisteredVariants))]
    public void PerVariantFlopsConstantsEqualTheConfigFormula(string variant)
    {
        var registered = ModelCatalog.Registry.GetVariant(variant);
        var members = Members(registered);
        foreach (int length in new[] { 1, 2, 17, 512, 1026, 100_000 })
        {
            long expected = registered.Config.ForwardFlops(length);
            Assert.Equal(expected, members.ConfigFlops(length));
            Assert.Equal(expected, members.VariantsFlops(length));
        }
    }

    [Fact]
    public void ForwardFlopsOfSpliceBertByHand()
    {
        // SpliceBERT: N = 6, H = 512, I = 2048, V = 28, no pair prior. At L = 512:
        long l = 512, h = 512, i = 2048, v = 28, n = 6;
        long multiplyAdds = n * (4 * l * h * h + 2 * l * h * i + 2 * l * l * h) + h * h + (l * h * h + l * h * v);
        Assert.Equal(2 * multiplyAdds, SpliceBertVariants.SpliceBert.ForwardFlops(512));
        Assert.Equal(2 * multiplyAdds, SpliceBertConfig.SpliceBertForwardFlops(512));
        Assert.Equal(22_832_218_112L, 2 * multiplyAdds); // the worked example of docs/model-facts.md
    }

    [Fact]
    public void ForwardFlopsRejectsEmptyInputAndOverflow()
    {
        var config = SpliceBertVariants.SpliceBert;
        Assert.Throws<ArgumentOutOfRangeException>(() => config.ForwardFlops(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpliceBertConfig.SpliceBertForwardFlops(-1));
        Assert.Throws<OverflowException>(() => (config with { NumHiddenLayers = int.MaxValue }).ForwardFlops(int.MaxValue));
        Assert.Throws<OverflowException>(() => NcRnaBertConfig.NcRnaBertForwardFlops(int.MaxValue));
    }

    /// <summary>
    /// Tiny fixture configs covering every architecture path: post-LN, pair prior, pre-LN rotary with query softmax,
    /// k-mers, sinusoidal and offset positions, codons, the gated feed-forward with normed residuals.
    /// </summary>
    public static IEnumerable<object[]> TinyConfigs() => new[]
    {
        new object[] { "splicebert", 9 },
        new object[] { "ernierna", 11 },
        new object[] { "ncrnabert", 13 },
        new object[] { "ncrnabert-3mer", 6 },
        new object[] { "rnaernie", 1 },
        new object[] { "rnafm", 10 },
        new object[] { "utrlm-te_el", 12 },
        new object[] { "calm", 7 },
        new object[] { "rinalmo-micro", 14 },
        new object[] { "utrbert-3mer", 8 },
        new object[] { "rnabert", 15 },
    };

    /// <summary>
    /// Counts the FLOPs of a real forward pass independently of the formula: a hook on every <c>Linear</c> and <c>Dense</c> adds
    /// 2·rows·in·out for the rows that actually went through it (so the pooler counts one row and the pair-prior MLP V²
    /// rows), and every returned attention map [B, h, L, L] adds 2·numel·d for QKᵀ and again for PV.
    /// </summary>
    [Theory]
    [MemberData(nameof(TinyConfigs))]
    public void ForwardFlopsEqualACountFromTheInstantiatedModule(string variant, int length)
    {
        var family = ModelCatalog.Registry.GetVariant(variant).Family;
        string fixture = variant == "rinalmo-micro" ? "rinalmo" : variant; // the RiNALMo fixture is a tiny micro config
        var config = family.ReadConfig(File.ReadAllText(Path.Combine(Fixtures.Models(fixture), "config.json")), variant);
        torch.manual_seed(7);
        using var module = BuildWithPooler(config);
        var model = (IRnaMaskedLM)module;
        model.Module.eval();

        long linearFlops = 0;
        int linearCalls = 0;
        var removeHooks = new List<Action>();
        foreach (var (name, child) in model.Module.named_modules())
        {
            // The encoders' layers are Dense, the heads' and the pair prior's TorchSharp Linear.
            var weight = child switch { Linear linear => linear.weight, Dense dense => dense.Weight, _ => null };
            if (weight is null) continue;
            long outFeatures = weight.shape[0], inFeatures = weight.shape[1];
            var hook = ((nn.Module<Tensor, Tensor>)child).register_forward_hook((_, input, output) =>
            {
                long rows = input.numel() / inFeatures;
                linearFlops += 2 * rows * inFeatures * outFeatures;
                linearCalls++;
                return output;
            });
            removeHooks.Add(hook.remove);
        }

        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var ids = randint(6, config.VocabSize, new long[] { 1, length }, dtype: ScalarType.Int64);
        var output = model.Forward(ids, ones_like(ids), OutputRequest.Attentions); // owned by the dispose scope
        long headSize = config.HiddenSize / config.NumAttentionHeads;
        long attentionFlops = output.Backbone.Attentions!.Sum(a => 2 * 2 * a.numel() * headSize);
        foreach (var remove in removeHooks) remove();

        Assert.NotNull(output.Backbone.PoolerOutput);
        Assert.True(linearCalls >= 6 * config.NumHiddenLayers + 3, $"only {linearCalls} Linear calls were seen");
        Assert.Equal(linearFlops + attentionFlops, config.ForwardFlops(length));
    }

    private static nn.Module BuildWithPooler(IModelConfig config) => config switch
    {
        SpliceBertConfig c => new SpliceBertForMaskedLM(c, addPoolingLayer: true),
        ErnieRnaConfig c => new ErnieRnaForMaskedLM(c, addPoolingLayer: true),
        NcRnaBertConfig c => new NcRnaBertForMaskedLM(c, addPoolingLayer: true),
        RnaErnieConfig c => new RnaErnieForMaskedLM(c, addPoolingLayer: true),
        RnaFmConfig c => new RnaFmForMaskedLM(c, addPoolingLayer: true),
        UtrLmConfig c => new UtrLmForMaskedLM(c, addPoolingLayer: true),
        CaLmConfig c => new CaLmForMaskedLM(c, addPoolingLayer: true),
        RiNalmoConfig c => new RiNalmoForMaskedLM(c, addPoolingLayer: true),
        UtrBertConfig c => new UtrBertForMaskedLM(c, addPoolingLayer: true),
        RnaBertConfig c => new RnaBertForMaskedLM(c, addPoolingLayer: true),
        _ => throw new ArgumentException($"No builder for {config.ModelType}."),
    };

    private const string TableStart = "<!-- model-card-table:start (generated: ModelCatalog.ModelCardTable) -->";
    private const string TableEnd = "<!-- model-card-table:end -->";

    /// <summary>
    /// docs/models.md holds ModelCatalog.ModelCardTable between two markers, so the documentation cannot drift from
    /// the specs. After a spec change, review the difference and rewrite the block with <c>RNALM_ACCEPT_SNAPSHOTS=1</c>.
    /// </summary>
    [Fact]
    public void DocsModelsMdShowsTheGeneratedModelCardTable()
    {
        string path = Path.Combine(GeneratorHarness.RepoRoot(), "docs", "models.md");
        string text = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        int start = text.IndexOf(TableStart, StringComparison.Ordinal), end = text.IndexOf(TableEnd, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"{path} lacks the markers {TableStart} … {TableEnd}");
        int from = start + TableStart.Length + 1;
        string documented = text.Substring(from, end - from);
        if (documented != ModelCatalog.ModelCardTable && Environment.GetEnvironmentVariable("RNALM_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, text.Substring(0, from) + ModelCatalog.ModelCardTable + text.Substring(end));
            return;
        }
        Assert.Equal(ModelCatalog.ModelCardTable, documented);
    }

    [Fact]
    public void ModelCardTableHasOneRowPerRegisteredVariantWithItsFacts()
    {
        var rows = ModelCatalog.ModelCardTable.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2)
            .Select(r => r.Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
        var variants = ModelCatalog.Registry.Variants;
        Assert.Equal(variants.Select(v => "`" + v.Name + "`"), rows.Select(r => r[0]));
        static long N(string cell) => long.Parse(cell.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (v, r) in variants.Zip(rows))
        {
            Assert.Equal(v.Family.Name, r[1]);
            Assert.Equal(v.Config.NumHiddenLayers, N(r[2]));
            Assert.Equal(v.Config.HiddenSize, N(r[3]));
            Assert.Equal(v.Config.NumAttentionHeads, N(r[4]));
            Assert.Equal(v.Config.IntermediateSize, N(r[5]));
            Assert.Equal(v.Config.VocabSize, N(r[6]));
            Assert.Equal(v.Parameters, N(r[7]));
            Assert.Equal(v.MaxTokens is int m ? m.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture) : "unbounded", r[8]);
        }
    }
}
