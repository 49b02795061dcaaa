using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using RnaLm.Generator.Attributes;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Spec;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// Attribute specs: the shipped JSON specs written as attributes generate byte-identical sources (apart from the
/// spec's file name in two XML doc lines), the holder class gets ModelName and Family, every JSON field has exactly
/// one attribute property, and shared rules point at the attribute argument that wrote the value.
/// </summary>
public sealed class AttributeSpecTests
{
    /// <summary>Definitions/ernierna.model.json as attributes: sinusoidal positions, an unadded token-type table, the
    /// pair prior, the SS head, aliases, tied keys, ignored keys and variants with configuration overrides.</summary>
    public const string ErnieRnaAttributes = """
        using RnaLm.Specs;

        namespace User.Specs;

        [RnaModel("ernierna", TypeName = "ErnieRna",
            Description = "ERNIE-RNA: a BERT whose attention starts from a base-pairing prior, pretrained on 20M ncRNA sequences (Yin et al., 2024).")]
        [RnaDims(Hidden = 768, Layers = 12, Heads = 12, Intermediate = 3072, VocabSize = RnaSpec.FromTokenizer, MaxPositions = 1026)]
        [RnaNorm(Kind = RnaNormKind.LayerNorm, Eps = 1e-5)]
        [RnaLayer(Kind = RnaLayerKind.PostNorm)]
        [RnaPosition(Kind = RnaPositionKind.Sinusoidal, PaddingAware = true, Offset = 1)]
        [RnaTokenType(Size = 2, Added = false)]
        [RnaEmbeddings(LayerNorm = true)]
        [RnaAttention(QkvBias = true, OutputBias = true, Softmax = RnaSoftmax.Keys)]
        [RnaPairPrior(Alpha = 0.8, Activation = RnaActivation.Gelu)]
        [RnaFeedForward(Kind = RnaFeedForwardKind.Mlp, Activation = RnaActivation.Gelu, Bias = true)]
        [RnaPooler(InCheckpoint = true, Activation = RnaActivation.Tanh)]
        [RnaMlmHead(TransformActivation = RnaMlmActivation.Gelu, LayerNormEps = RnaSpec.LayerNormEps, Tied = true, Bias = true)]
        [RnaSequenceHead(Transform = RnaHeadTransform.None)]
        [RnaTokenHead(Transform = RnaHeadTransform.None)]
        [RnaContactHead(Transform = RnaHeadTransform.None)]
        [RnaSecondaryStructureHead(AttentionHead = 5, Channels = 64, Blocks = 8, KernelSize = 7)]
        [RnaTokenizer(Alphabet = RnaSpec.RnaStandard28, AddBos = true, AddEos = true, UpperCase = true, TToU = true, ModelMaxLength = null)]
        [RnaSegmentation(Kind = RnaSegmentation.Single)]
        [RnaCheckpoint(Prefix = "model", LegacyPrefixes = new[] { "ernierna" },
            Ignore = new[] { "model.embeddings.position_ids", "model.embeddings.position_embeddings._float_tensor", "model.pairwise_bias_map" })]
        [RnaCheckpointAlias(@"^model\.pairwise_bias_proj\.0\.", "model.pairwise_bias_proj.dense1.")]
        [RnaCheckpointAlias(@"^model\.pairwise_bias_proj\.2\.", "model.pairwise_bias_proj.dense2.")]
        [RnaCheckpointAlias(@"^ss_head\.convnet\.([0-7])\.", "ss_head.convnet.blocks.$1.")]
        [RnaCheckpointAlias(@"^ss_head\.convnet\.8\.", "ss_head.convnet.projection.")]
        [RnaCheckpointTied("lm_head.decoder.weight", "model.embeddings.word_embeddings.weight")]
        [RnaCheckpointTied("lm_head.decoder.bias", "lm_head.bias")]
        [RnaModelVariant("ernierna")]
        [RnaModelVariant("ernierna-ss", OutputAttentionBiases = true, Architecture = RnaArchitecture.SecondaryStructure)]
        public partial class ErnieRna
        {
        }
        """;

    /// <summary>Definitions/ncrnabert.model.json as attributes: pre-LN with a final norm, partial rotary, softmax over
    /// queries, no embedding LayerNorm, zeroed pads, token_type null, and a 3-mer variant.</summary>
    public const string NcRnaBertAttributes = """
        using RnaLm.Specs;

        namespace User.Specs
        {
            [RnaModel("ncrnabert", TypeName = "NcRnaBert",
                Description = "ncRNABert: a pre-LN transformer with partial rotary attention pretrained on non-coding RNA (Wang et al., 2024).")]
            [RnaDims(Hidden = 1024, Layers = 24, Heads = 16, Intermediate = 4096, VocabSize = "from_tokenizer", MaxPositions = 512)]
            [RnaNorm(Kind = RnaNormKind.LayerNorm, Eps = 1e-12, Final = "layer_norm")]
            [RnaLayer(Kind = RnaLayerKind.PreNorm)]
            [RnaPosition(Kind = RnaPositionKind.Rotary, Dim = 32, Base = 10000, Interleaved = true, StoredFrequencies = true)]
            [RnaTokenType(Enabled = false)]
            [RnaEmbeddings(LayerNorm = false, ZeroPad = true)]
            [RnaAttention(QkvBias = false, OutputBias = true, Softmax = RnaSoftmax.Queries)]
            [RnaFeedForward(Kind = RnaFeedForwardKind.Mlp, Activation = RnaActivation.Gelu, Bias = true)]
            [RnaPooler(InCheckpoint = false, Activation = RnaActivation.Tanh)]
            [RnaMlmHead(TransformActivation = RnaMlmActivation.Gelu, LayerNormEps = 1e-12, Tied = true, Bias = true)]
            [RnaSequenceHead(Transform = RnaHeadTransform.None)]
            [RnaTokenHead(Transform = RnaHeadTransform.None)]
            [RnaContactHead(Transform = RnaHeadTransform.None)]
            [RnaTokenizer(Alphabet = "rna-legacy-26", AddBos = true, AddEos = true, UpperCase = true, TToU = true, ModelMaxLength = 512)]
            [RnaSegmentation(Kind = RnaSegmentation.Single)]
            [RnaCheckpoint(Prefix = "ncrnabert", Ignore = new[] { "ncrnabert.embeddings.position_ids" })]
            [RnaCheckpointTied("lm_head.decoder.weight", "ncrnabert.embeddings.word_embeddings.weight")]
            [RnaCheckpointTied("lm_head.decoder.bias", "lm_head.bias")]
            [RnaModelVariant("ncrnabert")]
            [RnaModelVariant("ncrnabert-3mer", Alphabet = RnaSpec.RnaStreamline, Segmentation = RnaSegmentation.Kmer, K = 3)]
            public static partial class NcRnaBertSpec
            {
            }
        }
        """;

    private static AdditionalText Shipped(string fileName)
    {
        string path = Path.Combine(GeneratorHarness.DefinitionsDir, fileName);
        return new InMemoryAdditionalText(path, File.ReadAllText(path));
    }

    [Theory]
    [InlineData("ernierna.model.json", "ErnieRna.cs", ErnieRnaAttributes, "User.Specs.ErnieRna")]
    [InlineData("ncrnabert.model.json", "NcRnaBertSpec.cs", NcRnaBertAttributes, "User.Specs.NcRnaBertSpec")]
    public void AttributeSpecGeneratesTheSameSourcesAsTheJsonSpec(string jsonFile, string csFile, string attributes, string holder)
    {
        var fromJson = GeneratorHarness.RunFiles(new[] { Shipped(jsonFile) });
        var fromAttributes = GeneratorHarness.RunFiles(Array.Empty<AdditionalText>(), ("/src/" + csFile, attributes));
        Assert.Empty(GeneratorHarness.Describe(fromJson.Result.Diagnostics));
        Assert.Empty(GeneratorHarness.Describe(fromAttributes.Result.Diagnostics));

        var json = fromJson.Result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        var attr = fromAttributes.Result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        // Exactly the JSON spec's files, plus the holder class's members.
        Assert.Equal(json.Keys.Append(holder + ".RnaModel.g.cs").OrderBy(k => k, StringComparer.Ordinal), attr.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (hint, text) in json)
        {
            // The only difference: XML docs name the spec's source file ("generated from ernierna.model.json").
            string expected = text.Replace("generated from " + jsonFile, "generated from " + csFile, StringComparison.Ordinal);
            Assert.True(expected == attr[hint], hint + " differs:\n" + FirstDifference(expected, attr[hint]));
        }
        int namedFiles = json.Values.Count(t => t.Contains("generated from " + jsonFile, StringComparison.Ordinal));
        Assert.InRange(namedFiles, 1, 2);

        var errors = fromAttributes.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", GeneratorHarness.Describe(errors)));
    }

    [Fact]
    public void HolderClassExposesTheModelNameAndTheFamily()
    {
        var run = GeneratorHarness.RunFiles(Array.Empty<AdditionalText>(), ("/src/ErnieRna.cs", ErnieRnaAttributes),
            ("/src/Use.cs", """
                namespace User;
                public static class Use
                {
                    public const string Name = User.Specs.ErnieRna.ModelName;
                    public static global::RnaLm.Models.IModelFamily Family => User.Specs.ErnieRna.Family;
                }
                """));
        var holder = run.Result.Results.Single().GeneratedSources.Single(s => s.HintName == "User.Specs.ErnieRna.RnaModel.g.cs").SourceText.ToString();
        Assert.Contains("partial class ErnieRna", holder, StringComparison.Ordinal);
        Assert.Contains("public const string ModelName = \"ernierna\";", holder, StringComparison.Ordinal);
        Assert.Contains("public static global::RnaLm.Models.ErnieRnaFamily Family => global::RnaLm.Models.ErnieRnaFamily.Instance;", holder, StringComparison.Ordinal);
        var errors = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", GeneratorHarness.Describe(errors)));
        var catalog = run.Result.Results.Single().GeneratedSources.Single(s => s.HintName == "ModelCatalog.g.cs").SourceText.ToString();
        Assert.Contains("global::RnaLm.Models.ErnieRnaFamily.Instance,", catalog, StringComparison.Ordinal);
    }

    [Fact]
    public void TypeNameDefaultsToTheClassNameAndTheSpecIsListedWithJsonSpecs()
    {
        const string source = """
            using RnaLm.Specs;
            [RnaModel("tinyattr")]
            [RnaDims(Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, MaxPositions = 128)]
            [RnaNorm(Eps = 1e-12)]
            [RnaPosition(Kind = RnaPositionKind.Learned)]
            [RnaFeedForward(Activation = RnaActivation.Gelu)]
            [RnaPooler(InCheckpoint = false)]
            [RnaCheckpoint(Prefix = "model")]
            partial class TinyAttr { }
            """;
        var run = GeneratorHarness.RunFiles(new[] { Shipped("splicebert.model.json") }, ("/src/TinyAttr.cs", source));
        Assert.Empty(GeneratorHarness.Describe(run.Result.Diagnostics));
        var hints = run.Result.Results.Single().GeneratedSources.Select(s => s.HintName).ToList();
        Assert.Contains("RnaLm.Models.TinyAttrConfig.g.cs", hints);
        Assert.Contains("TinyAttr.RnaModel.g.cs", hints);
        var catalog = run.Result.Results.Single().GeneratedSources.Single(s => s.HintName == "ModelCatalog.g.cs").SourceText.ToString();
        Assert.True(catalog.IndexOf("SpliceBertFamily", StringComparison.Ordinal) < catalog.IndexOf("TinyAttrFamily", StringComparison.Ordinal));
        var errors = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", GeneratorHarness.Describe(errors)));
    }

    [Fact]
    public void SharedRulesPointAtTheAttributeArgument()
    {
        const string source = """
            using RnaLm.Specs;
            [RnaModel("tinyattr")]
            [RnaDims(Hidden = 64, Layers = 2, Heads = 5, Intermediate = 128, MaxPositions = 128)]
            [RnaNorm(Eps = 1e-12)]
            [RnaPosition(Kind = RnaPositionKind.Learned)]
            [RnaFeedForward(Activation = RnaActivation.Gelu)]
            [RnaPooler(InCheckpoint = false)]
            partial class TinyAttr { }
            """;
        var run = GeneratorHarness.RunFiles(Array.Empty<AdditionalText>(), ("/src/TinyAttr.cs", source));
        Assert.Equal(new[]
        {
            "RNA2003 Error TinyAttr.cs(2,2)-(2,10): Required field 'checkpoint' is missing",
            "RNA3001 Error TinyAttr.cs(3,43)-(3,44): The hidden size 64 is not divisible by the number of attention heads 5",
        }, GeneratorHarness.Describe(run.Result.Diagnostics));
        Assert.DoesNotContain(run.Result.Results.Single().GeneratedSources, s => s.HintName.Contains("TinyAttr", StringComparison.Ordinal));
    }

    [Fact]
    public void WrongValueTypesInObjectPropertiesUseTheJsonDiagnostics()
    {
        const string source = """
            using RnaLm.Specs;
            [RnaModel("tinyattr")]
            [RnaDims(Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, VocabSize = 28.0, MaxPositions = 128)]
            [RnaNorm(Eps = 1e-12)]
            [RnaPosition(Kind = RnaPositionKind.Learned)]
            [RnaFeedForward(Activation = RnaActivation.Gelu)]
            [RnaPooler(InCheckpoint = false)]
            [RnaTokenizer(ModelMaxLength = "everything", Alphabet = new[] { "A", "CG" })]
            [RnaCheckpoint(Prefix = "model")]
            partial class TinyAttr { }
            """;
        var run = GeneratorHarness.RunFiles(Array.Empty<AdditionalText>(), ("/src/TinyAttr.cs", source));
        Assert.Equal(new[]
        {
            "RNA2002 Error TinyAttr.cs(3,78)-(3,82): 'dims.vocab_size' must be an integer, but is a non-integer number",
            "RNA2004 Error TinyAttr.cs(8,32)-(8,44): 'tokenizer.model_max_length' has the invalid value \"everything\"; allowed values are a positive integer, \"positions\" or null",
            "RNA3006 Error TinyAttr.cs(8,70)-(8,74): Invalid tokenizer vocabulary: alphabet entry \"CG\" is not a single visible character",
        }, GeneratorHarness.Describe(run.Result.Diagnostics));
    }

    [Fact]
    public void EveryJsonFieldHasExactlyOneAttributeProperty()
    {
        var assembly = typeof(RnaLm.Specs.RnaModelAttribute).Assembly;
        // Concrete attributes only: an abstract base (RnaTaskHeadAttribute) only shares properties.
        var attributeTypes = assembly.GetTypes().Where(t => typeof(Attribute).IsAssignableFrom(t) && !t.IsAbstract && t.Namespace == "RnaLm.Specs").ToList();
        Assert.Equal(attributeTypes.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal),
            AttributeSchema.Mappings.Keys.OrderBy(n => n, StringComparer.Ordinal));

        var covered = new List<string>();
        // The JSON objects a spec can hold: the fixed ones, and each slot's object with the fields of all its kinds.
        var objects = SpecSchema.Fields.ToDictionary(f => f.Key, f => f.Value.ToList());
        foreach (var slot in KindRegistry.Slots)
        {
            if (slot == KindRegistry.AttentionBias)
            {
                foreach (var kind in slot.Kinds) objects[slot.Path + "." + kind.Name] = kind.Fields.Select(f => f.Name).ToList();
                continue;
            }
            if (slot == KindRegistry.PretrainingHead)
            {
                // Keyed by module name: [RnaPretrainingHead(key)] writes one entry with the kind and the fields of every head kind.
                objects[slot.Path + ".(key)"] = new[] { "kind" }.Concat(slot.Kinds.SelectMany(k => k.Fields.Select(f => f.Name))).Distinct().ToList();
                continue;
            }
            objects[slot.Path] = new[] { "kind" }.Concat(slot.Kinds.SelectMany(k => k.Fields.Select(f => f.Name))).Distinct().ToList();
        }
        objects.Remove("attention.softmax");
        foreach (var type in attributeTypes)
        {
            var mapping = AttributeSchema.Mappings[type.Name];
            var settable = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name).ToList();
            var flags = settable.Where(p => p == AttributeSchema.Enabled || AttributeSchema.EmptyArrayFlags.ContainsKey(p)).ToList();
            Assert.Equal(settable.Except(flags).OrderBy(n => n, StringComparer.Ordinal), mapping.Properties.Keys.OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(mapping.Nullable, flags.Contains(AttributeSchema.Enabled));
            var ctor = type.GetConstructors().Single();
            Assert.Equal(mapping.Constructor.Length, ctor.GetParameters().Length);
            if (mapping.Kind == AttributeKind.Variant)
            {
                // The variant properties are exactly the configuration paths: the fixed ones, every kind's configuration
                // fields, the switches, and the segmentation slot's fields.
                var overridable = SpecSchema.Overridable.Where(p => p != "tokenizer.segmentation" && p != "tokenizer.rna_types")
                    .Concat(KindRegistry.Slots.SelectMany(slot => slot.Kinds.SelectMany(k => k.Fields.Where(f => f.Overridable)
                        .Select(f => (slot == KindRegistry.AttentionBias ? slot.Path + "." + k.Name : slot == KindRegistry.PretrainingHead ? slot.Path + ".*" : slot.Path) + "." + f.Name))))
                    .Concat(new[] { "embeddings.layer_norm", "embeddings.token_dropout", "tokenizer.segmentation.kind", "tokenizer.segmentation.k",
                        "tokenizer.rna_types.indicator", "tokenizer.rna_types.types" })
                    .Distinct().OrderBy(p => p, StringComparer.Ordinal);
                Assert.Equal(overridable, mapping.Properties.Values.OrderBy(p => p, StringComparer.Ordinal));
                continue;
            }
            string objectPath = mapping.Kind == AttributeKind.KeyedItem ? mapping.Path + ".(key)" : mapping.Path;
            foreach (var field in mapping.Kind == AttributeKind.KeyedItem ? mapping.Properties.Values : mapping.Properties.Values.Concat(mapping.Constructor))
            {
                string path = SpecSchema.Join(objectPath, field);
                int dot = path.LastIndexOf('.');
                string parent = dot < 0 ? "" : path.Substring(0, dot);
                Assert.True(objects.TryGetValue(parent, out var known) && known.Contains(path.Substring(dot + 1)), mapping.Name + " writes " + path + ", which is no spec field");
                covered.Add(path);
            }
            if (mapping.Nullable) covered.Add(mapping.Path);
            foreach (var flag in flags.Where(f => AttributeSchema.EmptyArrayFlags.ContainsKey(f))) covered.Add(SpecSchema.Join(mapping.Path, AttributeSchema.EmptyArrayFlags[flag].Field));
        }
        covered.Add("variants");
        covered.AddRange(new[] { "checkpoint.aliases", "checkpoint.tied", "heads", "heads.secondary_structure", "embeddings.token_type", "attention.biases", "pretraining_heads" });

        // Every field of every JSON object is written by some attribute property (or is an object an attribute writes).
        foreach (var (objectPath, fields) in objects)
        {
            foreach (var field in fields)
            {
                string path = SpecSchema.Join(objectPath, field);
                bool isObject = objects.ContainsKey(path);
                Assert.True(covered.Contains(path) || isObject && covered.Any(c => c.StartsWith(path + ".", StringComparison.Ordinal)),
                    "no attribute property writes " + path);
            }
        }
    }

    [Theory]
    [InlineData("TToU", "t_to_u")]
    [InlineData("QkvBias", "qkv_bias")]
    [InlineData("GeluNew", "gelu_new")]
    [InlineData("InverseSqrtHeadSize", "inverse_sqrt_head_size")]
    [InlineData("MaskedLm", "masked_lm")]
    [InlineData("Hidden", "hidden")]
    public void SnakeCaseGivesTheJsonSpelling(string name, string json) => Assert.Equal(json, AttributeSchema.SnakeCase(name));

    [Fact]
    public void EveryEnumMemberIsAnAllowedJsonValue()
    {
        void Check<TEnum>(IEnumerable<string> allowed) where TEnum : struct, Enum =>
            Assert.Equal(Enum.GetNames<TEnum>().Select(AttributeSchema.SnakeCase).OrderBy(s => s, StringComparer.Ordinal), allowed.OrderBy(s => s, StringComparer.Ordinal));
        Check<RnaLm.Specs.RnaNormKind>(KindRegistry.Norm.KindNames);
        Check<RnaLm.Specs.RnaLayerKind>(KindRegistry.Layer.KindNames);
        Check<RnaLm.Specs.RnaPositionKind>(KindRegistry.Position.KindNames);
        Check<RnaLm.Specs.RnaSoftmax>(KindRegistry.Softmax.KindNames);
        Check<RnaLm.Specs.RnaFeedForwardKind>(KindRegistry.FeedForward.KindNames);
        Check<RnaLm.Specs.RnaSegmentation>(KindRegistry.Segmentation.KindNames);
        Check<RnaLm.Specs.RnaPretrainingHeadKind>(KindRegistry.PretrainingHead.KindNames);
        Check<RnaLm.Specs.RnaGate>(new[] { "swish_beta", "activation" });
        Check<RnaLm.Specs.RnaFeedForwardWidth>(new[] { "intermediate", "two_thirds" });
        Check<RnaLm.Specs.RnaActivation>(SpecSchema.Activations);
        Check<RnaLm.Specs.RnaMlmActivation>(SpecSchema.MlmActivations);
        Check<RnaLm.Specs.RnaArchitecture>(SpecSchema.Architectures);
        Check<RnaLm.Specs.RnaHeadTransform>(SpecSchema.HeadTransforms);
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string? x = i < e.Length ? e[i] : null, y = i < a.Length ? a[i] : null;
            if (x != y) return $"line {i + 1}\n- {x}\n+ {y}";
        }
        return "(none)";
    }
}

/// <summary>The examples of docs/spec.md ("extends", "Attribute specs") generate without diagnostics.</summary>
public sealed class SpecDocExamplesTests
{
    private static string Example(string section, string language)
    {
        var doc = File.ReadAllText(SpecTestKit.RepoFile("docs/spec.md"));
        int start = doc.IndexOf("\n## " + section + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/spec.md has no section " + section);
        var match = System.Text.RegularExpressions.Regex.Match(doc.Substring(start), "```" + language + "\n(.*?)\n```", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(match.Success, section + " has no " + language + " example");
        return match.Groups[1].Value;
    }

    [Fact]
    public void TheExtendsExampleBuildsOnTheShippedSpecs()
    {
        var specs = GeneratorHarness.ShippedSpecs().Append(new InMemoryAdditionalText("/specs/splicebert-preln.model.json", Example("`extends`", "json"))).ToList();
        var run = GeneratorHarness.RunFiles(specs);
        Assert.Empty(GeneratorHarness.Describe(run.Result.Diagnostics));
        Assert.Contains(run.Result.Results.Single().GeneratedSources, s => s.HintName == "RnaLm.Models.SpliceBertPreLnModules.g.cs");
        var errors = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", GeneratorHarness.Describe(errors)));
    }

    [Fact]
    public void TheAttributeSpecExampleBuilds()
    {
        var run = GeneratorHarness.RunFiles(Array.Empty<AdditionalText>(), ("/src/TinyRnaSpec.cs", Example("Attribute specs", "csharp")));
        Assert.Empty(GeneratorHarness.Describe(run.Result.Diagnostics));
        Assert.Contains(run.Result.Results.Single().GeneratedSources, s => s.HintName == "TinyRnaSpec.RnaModel.g.cs");
        var errors = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", GeneratorHarness.Describe(errors)));
    }
}
