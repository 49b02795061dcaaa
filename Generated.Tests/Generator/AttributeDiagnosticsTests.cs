using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// One test per RNA5xxx diagnostic (attribute specs): id, severity and the exact span of the attribute syntax, as a
/// build prints it. <see cref="Tiny"/> lays out a valid spec: line 1 using, 2 [RnaModel], 3 [RnaDims], 4 [RnaNorm],
/// 5 [RnaPosition], 6 [RnaFeedForward], 7 [RnaPooler], 8 [RnaCheckpoint], then the extra lines, then the class.
/// </summary>
public sealed class AttributeDiagnosticsTests
{
    private const string Path = "/src/TinyAttr.cs";

    private static string Tiny(string extra = "", string declaration = "partial class TinyAttr { }", string model = "[RnaModel(\"tinyattr\")]") =>
        "using RnaLm.Specs;\n" + model + "\n" +
        "[RnaDims(Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, MaxPositions = 128)]\n" +
        "[RnaNorm(Eps = 1e-12)]\n" +
        "[RnaPosition(Kind = RnaPositionKind.Learned)]\n" +
        "[RnaFeedForward(Activation = RnaActivation.Gelu)]\n" +
        "[RnaPooler(InCheckpoint = false)]\n" +
        "[RnaCheckpoint(Prefix = \"model\")]\n" +
        (extra.Length > 0 ? extra + "\n" : "") +
        declaration + "\n";

    private static (GeneratorDriverRunResult Result, Compilation Output, System.Collections.Immutable.ImmutableArray<Diagnostic> Driver) Run(params (string Path, string Text)[] files) =>
        GeneratorHarness.RunFiles(Array.Empty<AdditionalText>(), files);

    private static void AssertOnly(string source, string expected, params (string Path, string Text)[] more)
    {
        var run = Run(new[] { (Path, source) }.Concat(more).ToArray());
        Assert.Equal(new[] { expected }, GeneratorHarness.Describe(run.Result.Diagnostics));
        Assert.Empty(run.Driver.Where(d => d.Id is "CS8785" or "AD0001"));
        Assert.DoesNotContain(run.Result.Results.Single().GeneratedSources, s => s.HintName.Contains("TinyAttr", StringComparison.Ordinal));
    }

    [Fact]
    public void TheTemplateIsValid()
    {
        var run = Run((Path, Tiny()));
        Assert.Empty(GeneratorHarness.Describe(run.Result.Diagnostics));
        Assert.Contains(run.Result.Results.Single().GeneratedSources, s => s.HintName == "TinyAttr.RnaModel.g.cs");
        Assert.Empty(run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void RNA5001_ClassIsNotPartial()
    {
        AssertOnly(Tiny(declaration: "class TinyAttr { }"),
            "RNA5001 Error TinyAttr.cs(9,7)-(9,15): Class 'TinyAttr' declares a model with [RnaModel] and must be partial, because the generator adds members to it");
    }

    [Fact]
    public void RNA5002_ClassIsNested()
    {
        string source = "using RnaLm.Specs;\npartial class Outer\n{\n" + Tiny().Replace("using RnaLm.Specs;\n", "", StringComparison.Ordinal) + "}\n";
        AssertOnly(source,
            "RNA5002 Error TinyAttr.cs(11,15)-(11,23): Class 'TinyAttr' declares a model with [RnaModel] and must be a top-level, non-generic class");
    }

    [Fact]
    public void RNA5002_ClassIsGeneric()
    {
        AssertOnly(Tiny(declaration: "partial class TinyAttr<T> { }"),
            "RNA5002 Error TinyAttr.cs(9,15)-(9,23): Class 'TinyAttr' declares a model with [RnaModel] and must be a top-level, non-generic class");
    }

    [Fact]
    public void RNA5003_SpecAttributeOnAnotherPartialDeclaration()
    {
        AssertOnly(Tiny(),
            "RNA5003 Error TinyAttr.Part.cs(2,2)-(2,14): [RnaTokenizer] must be on the same declaration of 'TinyAttr' as [RnaModel]",
            ("/src/TinyAttr.Part.cs", "using RnaLm.Specs;\n[RnaTokenizer(UToT = true)]\npartial class TinyAttr { }\n"));
    }

    [Fact]
    public void RNA5004_ValueNoSpecCanHold()
    {
        AssertOnly(Tiny(declaration: "partial class TinyAttr { }").Replace("Eps = 1e-12", "Eps = double.NaN", StringComparison.Ordinal),
            "RNA5004 Error TinyAttr.cs(4,16)-(4,26): RnaNorm.Eps cannot be used as a spec value: spec numbers must be finite");
    }

    [Fact]
    public void RNA5005_DisabledBlockWithValues()
    {
        AssertOnly(Tiny("[RnaTokenType(Enabled = false, Size = 2)]"),
            "RNA5005 Error TinyAttr.cs(9,32)-(9,36): RnaTokenType.Size conflicts with Enabled = false (which writes null for 'embeddings.token_type')");
    }

    [Fact]
    public void RNA5005_NoAliasesWithAnAlias()
    {
        AssertOnly(Tiny("[RnaCheckpointAlias(\"^old\\\\.\", \"model.\")]").Replace("[RnaCheckpoint(Prefix = \"model\")]", "[RnaCheckpoint(Prefix = \"model\", NoAliases = true)]", StringComparison.Ordinal),
            "RNA5005 Error TinyAttr.cs(8,34)-(8,43): RnaCheckpoint.NoAliases conflicts with [RnaCheckpointAlias]");
    }

    [Fact]
    public void RNA5006_VariantDeclaredTwice()
    {
        AssertOnly(Tiny("[RnaModelVariant(\"tinyattr.a\")]\n[RnaModelVariant(\"tinyattr.a\", Layers = 4)]"),
            "RNA5006 Error TinyAttr.cs(10,18)-(10,30): Variant 'tinyattr.a' is declared by more than one [RnaModelVariant]");
    }

    [Fact]
    public void CompilerErrorsInTheAttributesAreLeftToTheCompiler()
    {
        var run = Run((Path, Tiny().Replace("Hidden = 64", "Hidden = \"64\"", StringComparison.Ordinal)));
        Assert.Empty(run.Result.Diagnostics);
        Assert.Empty(run.Driver.Where(d => d.Id is "CS8785" or "AD0001"));
        Assert.Contains(run.Output.GetDiagnostics(), d => d.Id == "CS0029");
        Assert.DoesNotContain(run.Result.Results.Single().GeneratedSources, s => s.HintName.Contains("TinyAttr", StringComparison.Ordinal));
    }

    [Fact]
    public void ADisabledBlockWritesNullAndAnEmptyArrayFlagWritesAnEmptyArray()
    {
        var run = Run((Path, Tiny("[RnaPairPrior(Enabled = false)]\n[RnaSecondaryStructureHead(Enabled = false)]").Replace("[RnaCheckpoint(Prefix = \"model\")]", "[RnaCheckpoint(Prefix = \"model\", NoAliases = true, NoTied = true)]", StringComparison.Ordinal)));
        Assert.Empty(GeneratorHarness.Describe(run.Result.Diagnostics));
        var family = run.Result.Results.Single().GeneratedSources.Single(s => s.HintName == "RnaLm.Models.TinyAttrFamily.g.cs").SourceText.ToString();
        Assert.Contains("Tied: new global::RnaLm.Checkpoints.TiedKey[] {  }", family, StringComparison.Ordinal);
    }
}
