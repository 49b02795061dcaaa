using System;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Spec;
using Xunit;
using static RnaLm.Tests.Generator.SpecTestKit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// <c>"extends"</c>: a spec inherits every field of another spec (deep merge of objects; arrays, scalars and null
/// replace) except spec_version, name, type_name, extends and variants; problems that only involve inherited values
/// are reported at the <c>extends</c> value; specs of both kinds (JSON, attributes) extend each other.
/// </summary>
public sealed class ExtendsTests
{
    private const string BasePath = "/specs/splicebert.model.json";

    private static SpecDocument Document(string path, string json) => SpecParser.ReadDocument(path, SourceText.From(json), CancellationToken.None);

    private static SpecDocument SpliceBert() => Document(BasePath, Definition("splicebert.model.json"));

    private static ParsedSpec ParseChild(string json, params SpecDocument[] others) =>
        SpecParser.Parse("/specs/child.model.json", SourceText.From(json), others, CancellationToken.None);

    private static string Child(string fields) =>
        "{\n  \"spec_version\": 2,\n  \"name\": \"splicebert-pre\",\n  \"type_name\": \"SpliceBertPre\",\n  \"extends\": \"splicebert\"" +
        (fields.Length > 0 ? ",\n  " + fields : "") + "\n}\n";

    [Fact]
    public void AChildInheritsEverythingButIdentityAndVariants()
    {
        var parsed = ParseChild(Child(""), SpliceBert());
        AssertClean(parsed);
        var baseSpec = SpecParser.Parse(BasePath, SourceText.From(Definition("splicebert.model.json")), CancellationToken.None).Spec!;
        var spec = parsed.Spec!;
        Assert.Equal("splicebert-pre", spec.Name);
        Assert.Equal("SpliceBertPre", spec.TypeName);
        Assert.Equal(baseSpec.Description, spec.Description);
        Assert.Equal(baseSpec with { Name = spec.Name, TypeName = spec.TypeName, SourceFile = spec.SourceFile, Variants = spec.Variants }, spec);
        // The base's variants are not inherited (variant names are model ids): the child is its only variant.
        var variant = Assert.Single(spec.Variants);
        Assert.Equal("splicebert-pre", variant.Name);
        Assert.Equal(1026, variant.MaxPositions);
    }

    [Fact]
    public void ObjectsMergeFieldByFieldAndTheChildMayChangeTheArchitecture()
    {
        var parsed = ParseChild(Child("\"norm\": { \"final\": \"layer_norm\" },\n  \"layer\": \"pre_norm\",\n  \"dims\": { \"layers\": 2 }"), SpliceBert());
        AssertClean(parsed);
        var spec = parsed.Spec!;
        Assert.Equal(KindOf("norm", "layer_norm", ("eps", 1e-12), ("final", "layer_norm")), spec.Norm);
        Assert.Equal(KindOf("layer", "pre_norm"), spec.Layer);
        Assert.Equal(new DimsSpec(512, 2, 16, 2048, null, 1026), spec.Dims);
    }

    [Fact]
    public void ASlotObjectNamingAnotherKindReplacesTheInheritedKindWhole()
    {
        const string basePath = "/specs/ncrnabert.model.json";
        var ncRnaBert = Document(basePath, Definition("ncrnabert.model.json"));
        var json = "{\n  \"spec_version\": 2,\n  \"name\": \"ncrnabert-learned\",\n  \"type_name\": \"NcRnaBertLearned\",\n  \"extends\": \"ncrnabert\",\n" +
            "  \"position\": { \"kind\": \"learned\" }\n}\n";
        var parsed = SpecParser.Parse("/specs/child.model.json", SourceText.From(json), new[] { ncRnaBert }, CancellationToken.None);
        // The rotary kind's dim, base, interleaved and stored_frequencies are not carried into the learned kind.
        AssertClean(parsed);
        Assert.Equal(KindOf("position", "learned"), parsed.Spec!.Position);

        // The same kind merges field by field.
        json = json.Replace("{ \"kind\": \"learned\" }", "{ \"kind\": \"rotary\", \"base\": 20000 }", StringComparison.Ordinal);
        parsed = SpecParser.Parse("/specs/child.model.json", SourceText.From(json), new[] { ncRnaBert }, CancellationToken.None);
        AssertClean(parsed);
        Assert.Equal(32, parsed.Spec!.Position.Get<int>("dim"));
        Assert.Equal(20000.0, System.Convert.ToDouble(parsed.Spec.Position.GetOrNull("base"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void ArraysScalarsAndNullReplace()
    {
        var parsed = ParseChild(Child(
            "\"checkpoint\": { \"ignore\": [], \"tied\": [ { \"key\": \"lm_head.decoder.weight\", \"source\": \"model.embeddings.word_embeddings.weight\" } ] },\n" +
            "  \"embeddings\": { \"token_type\": null },\n  \"dims\": { \"max_positions\": 64 },\n" +
            "  \"tokenizer\": { \"alphabet\": [\"A\", \"C\", \"G\", \"U\"] }"), SpliceBert());
        AssertClean(parsed);
        var spec = parsed.Spec!;
        Assert.Empty(spec.Checkpoint.Ignore);
        Assert.Single(spec.Checkpoint.Tied);
        Assert.Equal(new[] { "splicebert" }, spec.Checkpoint.LegacyPrefixes);
        Assert.Equal("model", spec.Checkpoint.Prefix);
        Assert.Null(spec.Embeddings.TokenType);
        Assert.Equal(64, spec.Dims.MaxPositions);
        Assert.Equal(10, spec.Tokenizer.Vocabulary.Count);
    }

    [Fact]
    public void TheResultEqualsTheSameSpecWrittenOut()
    {
        var child = ParseChild(Child("\"layer\": \"pre_norm\""), SpliceBert());
        string written = Definition("splicebert.model.json")
            .Replace("\"name\": \"splicebert\"", "\"name\": \"splicebert-pre\"", StringComparison.Ordinal)
            .Replace("\"type_name\": \"SpliceBert\"", "\"type_name\": \"SpliceBertPre\"", StringComparison.Ordinal)
            .Replace("\"layer\": \"post_norm\"", "\"layer\": \"pre_norm\"", StringComparison.Ordinal);
        written = written.Substring(0, written.IndexOf(",\n  \"variants\"", StringComparison.Ordinal)) + "\n}\n";
        var full = SpecParser.Parse("/specs/child.model.json", SourceText.From(written), CancellationToken.None);
        AssertClean(full);
        Assert.Equal(full.Spec, child.Spec);
    }

    [Fact]
    public void ChainsResolveFromTheFarthestBase()
    {
        var middle = Document("/specs/mid.model.json", Child("\"dims\": { \"layers\": 3 },\n  \"norm\": { \"eps\": 1e-6 }").Replace("splicebert-pre", "mid", StringComparison.Ordinal).Replace("SpliceBertPre", "Mid", StringComparison.Ordinal));
        var json = "{ \"spec_version\": 2, \"name\": \"leaf\", \"type_name\": \"Leaf\", \"extends\": \"mid\", \"norm\": { \"eps\": 1e-7 } }";
        var parsed = ParseChild(json, middle, SpliceBert());
        AssertClean(parsed);
        Assert.Equal(new DimsSpec(512, 3, 16, 2048, null, 1026), parsed.Spec!.Dims);
        Assert.Equal(1e-7, parsed.Spec.Norm.Get<double>("eps"));
    }

    [Fact]
    public void NameAndTypeNameAreNotInherited()
    {
        var json = "{\n  \"spec_version\": 2,\n  \"extends\": \"splicebert\"\n}\n";
        var parsed = ParseChild(json, SpliceBert());
        Assert.Null(parsed.Spec);
        Assert.Equal(new[] { "Required field 'name' is missing", "Required field 'type_name' is missing" },
            parsed.Diagnostics.Select(Message).OrderBy(m => m, StringComparer.Ordinal));
        Assert.All(parsed.Diagnostics, d => AssertAt(d, DiagnosticSeverity.Error, (1, 1), (1, 2)));
    }

    [Fact]
    public void ARuleBrokenByTheChildPointsAtTheChildsValue()
    {
        // A base with a fixed model_max_length; the child shrinks the learned table under it.
        var fixedBase = Document(BasePath, Definition("splicebert.model.json").Replace("\"model_max_length\": \"positions\"", "\"model_max_length\": 1026", StringComparison.Ordinal));
        var json = Child("\"dims\": { \"max_positions\": 512 }");
        var d = Only(ParseChild(json, fixedBase), "RNA3003", DiagnosticSeverity.Error, (6, 30), (6, 33));
        Assert.Equal("512", Covered(json, d));
    }

    [Fact]
    public void AProblemOfTheBaseAloneIsReportedAtTheExtendsValue()
    {
        var brokenBase = Document(BasePath, Definition("splicebert.model.json").Replace("\"heads\": 16", "\"heads\": 15", StringComparison.Ordinal));
        var json = Child("");
        var d = Only(ParseChild(json, brokenBase), "RNA3001", DiagnosticSeverity.Error, (5, 14), (5, 26));
        Assert.Equal("\"splicebert\"", Covered(json, d));
        Assert.Equal("/specs/child.model.json", d.Location!.FilePath);
    }

    [Fact]
    public void WarningsAboutInheritedValuesAreLeftToTheBase()
    {
        var warnedBase = Document(BasePath, Definition("splicebert.model.json").Replace("\"eps\": 1e-12", "\"eps\": 0.1", StringComparison.Ordinal));
        Assert.Contains(SpecParser.Parse(BasePath, SourceText.From(Definition("splicebert.model.json").Replace("\"eps\": 1e-12", "\"eps\": 0.1", StringComparison.Ordinal)), CancellationToken.None).Diagnostics,
            d => d.Descriptor.Id == "RNA3101");
        var parsed = ParseChild(Child(""), warnedBase);
        AssertClean(parsed);
    }

    [Fact]
    public void JsonAndAttributeSpecsExtendEachOtherInTheDriver()
    {
        string baseFile = Path.Combine(GeneratorHarness.DefinitionsDir, "splicebert.model.json");
        var specs = new AdditionalText[]
        {
            new InMemoryAdditionalText(baseFile, File.ReadAllText(baseFile)),
            new InMemoryAdditionalText("/specs/leaf.model.json", "{ \"spec_version\": 2, \"name\": \"leaf\", \"type_name\": \"Leaf\", \"extends\": \"splicebert-attr\", \"dims\": { \"layers\": 1 } }"),
        };
        const string source = """
            using RnaLm.Specs;
            [RnaModel("splicebert-attr", Extends = "splicebert")]
            [RnaNorm(Final = "layer_norm")]
            [RnaLayer(Kind = RnaLayerKind.PreNorm)]
            partial class SpliceBertAttr { }
            """;
        var run = GeneratorHarness.RunFiles(specs, ("/src/SpliceBertAttr.cs", source));
        Assert.Empty(GeneratorHarness.Describe(run.Result.Diagnostics));
        var hints = run.Result.Results.Single().GeneratedSources.Select(s => s.HintName).ToList();
        Assert.Contains("RnaLm.Models.SpliceBertAttrConfig.g.cs", hints);
        Assert.Contains("RnaLm.Models.LeafConfig.g.cs", hints);
        var leaf = run.Result.Results.Single().GeneratedSources.Single(s => s.HintName == "RnaLm.Models.LeafConfig.g.cs").SourceText.ToString();
        Assert.Contains("NumHiddenLayers { get; init; } = 1;", leaf, StringComparison.Ordinal);
        var errors = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", GeneratorHarness.Describe(errors)));
    }

    [Fact]
    public void AnAttributeSpecsUnknownBaseIsReportedAtTheExtendsArgument()
    {
        const string source = """
            using RnaLm.Specs;
            [RnaModel("tinyattr", Extends = "splicebret")]
            partial class TinyAttr { }
            """;
        string baseFile = Path.Combine(GeneratorHarness.DefinitionsDir, "splicebert.model.json");
        var run = GeneratorHarness.RunFiles(new[] { new InMemoryAdditionalText(baseFile, File.ReadAllText(baseFile)) }, ("/src/TinyAttr.cs", source));
        Assert.Equal(new[] { "RNA4006 Error TinyAttr.cs(2,33)-(2,45): The spec extends 'splicebret', but no spec of this compilation declares that model name; did you mean 'splicebert'?" },
            GeneratorHarness.Describe(run.Result.Diagnostics));
    }
}
