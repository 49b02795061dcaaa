using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Spec;
using Xunit;
using static RnaLm.Tests.Generator.SpecTestKit;

namespace RnaLm.Tests.Generator;

/// <summary>The spec parser on valid specs: the model it builds, defaults, variants and vocabularies.</summary>
public class SpecParserTests
{
    [Fact]
    public void ShippedSpliceBertSpecParsesIntoTheExpectedModel()
    {
        var parsed = Parse(Definition("splicebert.model.json"), "/repo/Definitions/splicebert.model.json");
        AssertClean(parsed);
        var spec = parsed.Spec!;

        Assert.Equal("splicebert", spec.Name);
        Assert.Equal("SpliceBert", spec.TypeName);
        Assert.Equal("RnaLm.Models", spec.Namespace);
        Assert.StartsWith("SpliceBERT:", spec.Description, StringComparison.Ordinal);
        Assert.Equal("splicebert.model.json", spec.SourceFile);

        Assert.Equal(new DimsSpec(512, 6, 16, 2048, null, 1026), spec.Dims);
        Assert.Equal(32, spec.Dims.HeadSize);
        Assert.Equal(KindOf("norm", "layer_norm", ("eps", 1e-12)), spec.Norm);
        Assert.Equal(KindOf("layer", "post_norm"), spec.Layer);
        Assert.Equal(KindOf("position", "learned"), spec.Position);
        Assert.Equal(new EmbeddingsSpec(new TokenTypeSpec(2, true), new SwitchSpec(true, null), SwitchSpec.Off, false), spec.Embeddings);
        Assert.Equal(new AttentionSpec(true, true, KindOf("attention.softmax", "keys"), default), spec.Attention);
        Assert.Equal(KindOf("feed_forward", "mlp", ("activation", "gelu"), ("bias", true)), spec.FeedForward);
        Assert.Equal(new PoolerSpec(false, "tanh"), spec.Pooler);
        Assert.Equal(new MlmHeadSpec("gelu", 1e-12, true, true), spec.MlmHead);

        var tokenizer = spec.Tokenizer;
        Assert.Equal("rna-standard-28", tokenizer.Alphabet);
        Assert.Equal(28, tokenizer.Vocabulary.Count);
        Assert.Equal(new[] { "<pad>", "<cls>", "<eos>", "<unk>", "<mask>", "<null>", "A", "C", "G", "U" }, tokenizer.Vocabulary.Take(10));
        Assert.Equal("?", tokenizer.Vocabulary[27]);
        Assert.Equal(1, tokenizer.Nmers);
        Assert.Equal(KindOf("tokenizer.segmentation", "single"), tokenizer.Segmentation);
        Assert.True(tokenizer.AddBos && tokenizer.AddEos && tokenizer.UpperCase && tokenizer.TToU && !tokenizer.UToT);
        Assert.Equal(MaxLengthSpec.FromPositions, tokenizer.ModelMaxLength);

        Assert.Equal("model", spec.Checkpoint.Prefix);
        Assert.Equal(new[] { "splicebert" }, spec.Checkpoint.LegacyPrefixes);
        Assert.Empty(spec.Checkpoint.Aliases);
        Assert.Equal(new[]
        {
            new TiedSpec("lm_head.decoder.weight", "model.embeddings.word_embeddings.weight"),
            new TiedSpec("lm_head.decoder.bias", "lm_head.bias"),
        }, spec.Checkpoint.Tied);
        Assert.Equal(new[] { "model.embeddings.position_ids" }, spec.Checkpoint.Ignore);

        Assert.Equal(new[] { "splicebert", "splicebert.510", "splicebert-human.510" }, spec.Variants.Select(v => v.Name));
        Assert.Equal(new[] { "SpliceBert", "SpliceBert510", "SpliceBertHuman510" }, spec.Variants.Select(v => v.MemberName));
        Assert.Equal(new[] { 1026, 512, 512 }, spec.Variants.Select(v => v.MaxPositions));
        foreach (var variant in spec.Variants)
        {
            Assert.Equal(new DimsSpec(512, 6, 16, 2048, 28, variant.MaxPositions), variant.Dims);
            Assert.Equal(1e-12, variant.LayerNormEps);
            Assert.Equal("gelu", variant.HiddenAct);
            Assert.Equal("gelu", variant.MlmTransformActivation);
            Assert.Equal(1e-12, variant.MlmLayerNormEps);
            Assert.Equal(spec.Tokenizer, variant.Tokenizer);
            Assert.Equal(0, variant.PairwiseAlpha);
        }
        Assert.Equal(
            new[] { "model name splicebert", "type RnaLm.Models.SpliceBert", "variant name splicebert.510", "variant name splicebert-human.510" },
            parsed.DeclaredNames.Select(n => (n.Kind == DeclaredNameKind.Model ? "model name " : n.Kind == DeclaredNameKind.Type ? "type " : "variant name ") + n.Name));
    }

    [Theory]
    [InlineData("splicebert.model.json")]
    [InlineData("ernierna.model.json")]
    [InlineData("rnaernie.model.json")]
    [InlineData("ncrnabert.model.json")]
    public void EveryShippedSpecParsesWithoutDiagnostics(string fileName)
    {
        var parsed = Parse(Definition(fileName), "/repo/Definitions/" + fileName);
        AssertClean(parsed);
        Assert.Equal(fileName, parsed.Spec!.SourceFile);
        Assert.NotEmpty(parsed.Spec.Variants);
        Assert.All(parsed.Spec.Variants, v => Assert.Equal(v.Tokenizer.Vocabulary.Count, v.Dims.VocabSize));
    }

    [Fact]
    public void ShippedSpecsDeclareNoNameTwice()
    {
        var specs = new[] { "splicebert", "ernierna", "rnaernie", "ncrnabert" }
            .Select(n => Parse(Definition(n + ".model.json"), "/repo/Definitions/" + n + ".model.json"))
            .ToImmutableArray();
        Assert.Empty(SpecValidation.CheckDuplicateNames(specs));
    }

    [Fact]
    public void ParsingIsDeterministicAndValueEqual()
    {
        var text = Definition("splicebert.model.json");
        var a = Parse(text);
        var b = Parse(text);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void WhitespaceOnlyEditLeavesTheParseResultEqual()
    {
        var text = Definition("splicebert.model.json");
        var spaced = text.Replace("\n", "\n  ", StringComparison.Ordinal);
        Assert.Equal(Parse(text), Parse(spaced));
        Assert.NotEqual(Parse(text), Parse(text.Replace("\"layers\": 6", "\"layers\": 4", StringComparison.Ordinal)));
    }

    [Fact]
    public void MinimalSpecGetsTheDocumentedDefaults()
    {
        var parsed = Parse(Tiny());
        AssertClean(parsed);
        var spec = parsed.Spec!;
        Assert.Equal("RnaLm.Models", spec.Namespace);
        Assert.Equal("", spec.Description);
        Assert.Equal("tiny.model.json", spec.SourceFile);
        Assert.Null(spec.Dims.VocabSize);
        Assert.Equal(KindOf("norm", "layer_norm", ("eps", 1e-12)), spec.Norm);
        Assert.Null(spec.FinalNorm);
        Assert.Equal(KindOf("layer", "post_norm"), spec.Layer);
        Assert.Null(spec.Embeddings.TokenType);
        Assert.Equal(new SwitchSpec(true, null), spec.Embeddings.LayerNorm);
        Assert.Equal(SwitchSpec.Off, spec.Embeddings.TokenDropout);
        Assert.False(spec.Embeddings.ZeroPad);
        Assert.Equal(new AttentionSpec(true, true, KindOf("attention.softmax", "keys"), default), spec.Attention);
        Assert.Equal(KindOf("feed_forward", "mlp", ("activation", "gelu")), spec.FeedForward);
        Assert.Equal(new PoolerSpec(false, "tanh"), spec.Pooler);
        Assert.Equal(new MlmHeadSpec("hidden_act", null, true, true), spec.MlmHead);
        Assert.Equal("rna-standard-28", spec.Tokenizer.Alphabet);
        Assert.Equal(MaxLengthSpec.FromPositions, spec.Tokenizer.ModelMaxLength);
        Assert.Equal(new CheckpointSpec("model", default, default, default, default), spec.Checkpoint);

        var variant = Assert.Single(spec.Variants);
        Assert.Equal("tiny", variant.Name);
        Assert.Equal("Tiny", variant.MemberName);
        Assert.Equal(28, variant.Dims.VocabSize);
        Assert.Equal(128, variant.MaxPositions);
        Assert.Equal("hidden_act", variant.MlmTransformActivation);
        Assert.Null(variant.MlmLayerNormEps);
    }

    [Fact]
    public void EmptyVariantsObjectMeansTheFamilyIsTheOnlyVariant()
    {
        var parsed = Parse(Tiny(("variants", "{}")));
        AssertClean(parsed);
        Assert.Equal("Tiny", Assert.Single(parsed.Spec!.Variants).MemberName);
    }

    [Fact]
    public void NcRnaBertLikeSpecWithRotaryPreNormQueriesAndAKmerVariant()
    {
        var parsed = Parse(Tiny(
            ("name", "\"ncrnabert\""),
            ("type_name", "\"NcRnaBert\""),
            ("dims", "{ \"hidden\": 1024, \"layers\": 24, \"heads\": 16, \"intermediate\": 4096, \"max_positions\": 512 }"),
            ("norm", "{ \"eps\": 1e-12, \"final\": \"layer_norm\" }"),
            ("layer", "\"pre_norm\""),
            ("position", "{ \"kind\": \"rotary\", \"dim\": 32 }"),
            ("embeddings", "{ \"layer_norm\": false, \"zero_pad\": true }"),
            ("attention", "{ \"qkv_bias\": false, \"softmax\": \"queries\" }"),
            ("tokenizer", "{ \"alphabet\": \"rna-legacy-26\", \"model_max_length\": 512 }"),
            ("checkpoint", "{ \"prefix\": \"ncrnabert\" }"),
            ("variants", "{ \"ncrnabert\": {}, \"ncrnabert-3mer\": { \"tokenizer\": { \"alphabet\": \"rna-streamline\", \"segmentation\": { \"kind\": \"kmer\", \"k\": 3 } }, \"dims\": { \"vocab_size\": 131 } } }")));
        AssertClean(parsed);
        var spec = parsed.Spec!;
        Assert.Equal(KindOf("layer", "pre_norm"), spec.Layer);
        Assert.Equal("layer_norm", spec.FinalNorm);
        Assert.Equal(KindOf("position", "rotary", ("dim", 32)), spec.Position);
        Assert.Equal(512, spec.Dims.MaxPositions);
        Assert.Equal(SwitchSpec.Off, spec.Embeddings.LayerNorm);
        Assert.True(spec.Embeddings.ZeroPad);
        Assert.False(spec.Attention.QkvBias);
        Assert.Equal(KindOf("attention.softmax", "queries"), spec.Attention.Softmax);
        Assert.Equal(26, spec.Tokenizer.Vocabulary.Count);
        Assert.Equal("I", spec.Tokenizer.Vocabulary[25]);
        Assert.Equal(new MaxLengthSpec(MaxLengthKind.Fixed, 512), spec.Tokenizer.ModelMaxLength);

        Assert.Equal(new[] { "NcRnaBert", "NcRnaBert3Mer" }, spec.Variants.Select(v => v.MemberName));
        Assert.Equal(26, spec.Variants[0].Dims.VocabSize);
        var kmer = spec.Variants[1];
        Assert.Equal(131, kmer.Dims.VocabSize);
        Assert.Equal(3, kmer.Tokenizer.Nmers);
        Assert.Equal(KindOf("tokenizer.segmentation", "kmer", ("k", 3)), kmer.Tokenizer.Segmentation);
        Assert.Equal("rna-streamline", kmer.Tokenizer.Alphabet);
        var vocab = kmer.Tokenizer.Vocabulary;
        Assert.Equal(131, vocab.Count);
        // id(xyz) = 6 + 25 i(x) + 5 i(y) + i(z) over A C G U N (models.md §1.1 c).
        Assert.Equal("AAA", vocab[6]);
        Assert.Equal("AAC", vocab[7]);
        Assert.Equal("UAG", vocab[83]);
        Assert.Equal("NNN", vocab[130]);
    }

    [Fact]
    public void ErnieRnaLikeSpecWithSinusoidalPositionsAndPairPrior()
    {
        var parsed = Parse(Tiny(
            ("name", "\"ernierna\""),
            ("type_name", "\"ErnieRna\""),
            ("norm", "{ \"eps\": 1e-5 }"),
            ("dims", "{ \"hidden\": 64, \"layers\": 2, \"heads\": 4, \"intermediate\": 128, \"max_positions\": 1026 }"),
            ("position", "\"sinusoidal\""),
            ("embeddings", "{ \"token_type\": { \"size\": 2, \"added\": false } }"),
            ("attention", "{ \"biases\": { \"pair_prior\": { \"alpha\": 0.8 } } }"),
            ("mlm_head", "{ \"transform_activation\": \"gelu\", \"layer_norm_eps\": \"layer_norm_eps\" }"),
            ("tokenizer", "{ \"model_max_length\": null }"),
            ("checkpoint", "{ \"prefix\": \"model\", \"aliases\": [ { \"pattern\": \"^pairwise_bias_proj\\\\.0\\\\.\", \"replacement\": \"pairwise_bias_proj.dense1.\" }, { \"pattern\": \"ss_head\\\\.convnet\\\\.([0-7])\\\\.\", \"replacement\": \"ss_head.convnet.blocks.$1.\" } ] }"),
            ("variants", "{ \"ernierna\": {}, \"ernierna-ss\": { \"attention\": { \"biases\": { \"pair_prior\": { \"alpha\": 0.5 } } }, \"norm\": { \"eps\": 1e-12 } } }")));
        AssertClean(parsed);
        var spec = parsed.Spec!;
        Assert.Equal(KindOf("position", "sinusoidal"), spec.Position);
        Assert.Equal(new TokenTypeSpec(2, false), spec.Embeddings.TokenType);
        Assert.Equal(KindOf("attention.biases", "pair_prior", ("alpha", 0.8)), Assert.Single(spec.Attention.Biases));
        Assert.Equal(new MlmHeadSpec("gelu", null, true, true), spec.MlmHead);
        Assert.Equal(MaxLengthSpec.Unbounded, spec.Tokenizer.ModelMaxLength);
        Assert.Equal(new[]
        {
            new AliasSpec("^pairwise_bias_proj\\.0\\.", "pairwise_bias_proj.dense1."),
            new AliasSpec("ss_head\\.convnet\\.([0-7])\\.", "ss_head.convnet.blocks.$1."),
        }, spec.Checkpoint.Aliases);
        Assert.Equal(new[] { 0.8, 0.5 }, spec.Variants.Select(v => v.PairwiseAlpha));
        Assert.Equal(new[] { 1e-5, 1e-12 }, spec.Variants.Select(v => v.LayerNormEps));
        Assert.Equal(new[] { "ErnieRna", "ErnieRnaSs" }, spec.Variants.Select(v => v.MemberName));
    }

    [Fact]
    public void VariantOverridesEveryConfigurationPath()
    {
        var parsed = Parse(Tiny(("variants", """
            { "tiny.big": {
                "dims": { "hidden": 96, "layers": 3, "heads": 6, "intermediate": 384, "vocab_size": 30, "max_positions": 256 },
                "norm": { "eps": 1e-6 },
                "feed_forward": { "activation": "relu" },
                "mlm_head": { "transform_activation": "silu", "layer_norm_eps": 1e-7 },
                "tokenizer": { "alphabet": ["A", "C", "G", "U"], "segmentation": { "kind": "kmer", "k": 2 }, "add_bos": false, "add_eos": false,
                               "upper_case": false, "t_to_u": false, "model_max_length": 200 } } }
            """)));
        // Warnings only: vocab_size above the 2-mer vocabulary (RNA3102), a pooler without <cls> (RNA3107).
        Assert.True(parsed.Diagnostics.All(d => d.Descriptor.Id is "RNA3102" or "RNA3107"), Dump(parsed.Diagnostics));
        var variant = Assert.Single(parsed.Spec!.Variants);
        Assert.Equal("TinyBig", variant.MemberName);
        Assert.Equal(new DimsSpec(96, 3, 6, 384, 30, 256), variant.Dims);
        Assert.Equal(1e-6, variant.LayerNormEps);
        Assert.Equal(256, variant.MaxPositions);
        Assert.Equal("relu", variant.HiddenAct);
        Assert.Equal("silu", variant.MlmTransformActivation);
        Assert.Equal(1e-7, variant.MlmLayerNormEps);
        var tokenizer = variant.Tokenizer;
        Assert.Equal("custom", tokenizer.Alphabet);
        Assert.Equal(2, tokenizer.Nmers);
        Assert.Equal(6 + 16, tokenizer.Vocabulary.Count);
        Assert.Equal(new[] { "AA", "AC", "AG", "AU", "CA" }, tokenizer.Vocabulary.Skip(6).Take(5));
        Assert.False(tokenizer.AddBos || tokenizer.AddEos || tokenizer.UpperCase || tokenizer.TToU);
        Assert.Equal(new MaxLengthSpec(MaxLengthKind.Fixed, 200), tokenizer.ModelMaxLength);
        // The family keeps its own values.
        Assert.Equal(new DimsSpec(64, 2, 4, 128, null, 128), parsed.Spec.Dims);
        Assert.Equal(28, parsed.Spec.Tokenizer.Vocabulary.Count);
    }

    [Fact]
    public void KmerTokenizerDefaultsToTheStreamlineAlphabet()
    {
        var parsed = Parse(Tiny(("tokenizer", "{ \"segmentation\": { \"kind\": \"kmer\", \"k\": 3 } }")));
        AssertClean(parsed);
        Assert.Equal("rna-streamline", parsed.Spec!.Tokenizer.Alphabet);
        Assert.Equal(131, parsed.Spec.Tokenizer.Vocabulary.Count);
    }

    [Theory]
    [InlineData("splicebert", "splicebert", "SpliceBert", "SpliceBert")]
    [InlineData("splicebert.510", "splicebert", "SpliceBert", "SpliceBert510")]
    [InlineData("splicebert-human.510", "splicebert", "SpliceBert", "SpliceBertHuman510")]
    [InlineData("ncrnabert-3mer", "ncrnabert", "NcRnaBert", "NcRnaBert3Mer")]
    [InlineData("human_v2", "splicebert", "SpliceBert", "HumanV2")]
    public void VariantMemberNames(string variant, string family, string typeName, string expected)
    {
        Assert.Equal(expected, NameRules.VariantMemberName(variant, family, typeName));
    }

    [Fact]
    public void UnknownFieldSuggestionsOnlyWhenClose()
    {
        var fields = SpecSchema.Fields[""];
        Assert.Equal("dims", SpecSchema.Suggest("dimz", fields));
        Assert.Equal("type_name", SpecSchema.Suggest("typeName", fields));
        Assert.Equal("embeddings", SpecSchema.Suggest("embedings", fields));
        Assert.Equal("layer", SpecSchema.Suggest("layers", fields));
        Assert.Null(SpecSchema.Suggest("hidden", fields));
        Assert.Null(SpecSchema.Suggest("x", fields));
    }

    [Fact]
    public void ParserNeverThrowsOnTruncatedOrCorruptedText()
    {
        var text = Definition("splicebert.model.json");
        // Every proper prefix of the JSON (trailing whitespace aside) is incomplete.
        for (int length = 0; length < text.TrimEnd().Length; length += 7)
        {
            var parsed = Parse(text.Substring(0, length));
            Assert.Null(parsed.Spec);
            Assert.NotEmpty(parsed.Diagnostics);
        }
        var random = new Random(1234);
        const string noise = "{}[]\",:0-1e.tfn \\u";
        for (int i = 0; i < 300; i++)
        {
            var chars = text.ToCharArray();
            for (int k = 0; k < 3; k++) chars[random.Next(chars.Length)] = noise[random.Next(noise.Length)];
            var parsed = Parse(new string(chars));
            Assert.True(parsed.Spec is not null || parsed.Diagnostics.Count > 0);
            Assert.DoesNotContain(parsed.Diagnostics, d => d.Descriptor.Id == "RNA9001");
        }
    }

    [Theory]
    [InlineData("splicebert.model.json")]
    [InlineData("ernierna.model.json")]
    [InlineData("rnaernie.model.json")]
    [InlineData("ncrnabert.model.json")]
    public void EveryValueReplacedByAHostileTokenGivesDiagnosticsNotInternalErrors(string fileName)
    {
        var text = Definition(fileName);
        var root = RnaLm.Generator.Json.JsonReader.Parse(text).Root!;
        var spans = new System.Collections.Generic.List<TextSpan>();
        void Collect(RnaLm.Generator.Json.JsonNode node)
        {
            if (node != root) spans.Add(node.Span);
            if (node is RnaLm.Generator.Json.JsonObject o) foreach (var p in o.Properties) Collect(p.Value);
            if (node is RnaLm.Generator.Json.JsonArray a) foreach (var i in a.Items) Collect(i);
        }
        Collect(root);
        string[] hostile = { "null", "true", "0", "-1", "2147483648", "1.5", "1e300", "\"\"", "\"x\"", "[]", "[1]", "{}", "{\"x\": 1}" };
        foreach (var span in spans)
        {
            foreach (var token in hostile)
            {
                var mutated = text.Substring(0, span.Start) + token + text.Substring(span.End);
                var parsed = Parse(mutated);
                Assert.DoesNotContain(parsed.Diagnostics, d => d.Descriptor.Id == "RNA9001");
                if (parsed.Spec is null)
                {
                    Assert.Contains(parsed.Diagnostics, d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
                }
            }
        }
    }

    [Fact]
    public void CancellationIsNotSwallowed()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => SpecParser.Parse(TestPath, SourceText.From(Tiny()), cts.Token));
    }
}
