using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using RnaLm.Generator;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// Diagnostics checked with Roslyn's generator test framework: the expected diagnostics are marked in the sources
/// themselves (<c>{|RNA3001:5|}</c> in C#, the same markup in a spec file), and the framework also compiles the
/// generated code and fails on any compiler diagnostic it did not expect.
/// </summary>
public sealed class VerifierTests
{
    /// <summary>The generator under Roslyn's test driver, with the running framework and RnaLm's assemblies as references (no package download).</summary>
    private sealed class Test : CSharpSourceGeneratorTest<ModelGenerator, DefaultVerifier>
    {
        public Test()
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
                .Where(p => !Path.GetFileName(p).StartsWith("RnaLm.", StringComparison.Ordinal));
            foreach (var path in framework.Concat(new[]
                     {
                         typeof(RnaLm.Models.IModelFamily).Assembly.Location,
                         typeof(RnaLm.Specs.RnaModelAttribute).Assembly.Location,
                         typeof(TorchSharp.torch).Assembly.Location,
                     }).Distinct())
            {
                TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(path));
            }
            // The generated files are covered by the snapshot tests; here only diagnostics and compilation count.
            TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck;
        }
    }

    private const string Sections = """
        [RnaNorm(Eps = 1e-12)]
        [RnaPosition(Kind = RnaPositionKind.Learned)]
        [RnaFeedForward(Activation = RnaActivation.Gelu)]
        [RnaPooler(InCheckpoint = false)]
        [RnaCheckpoint(Prefix = "model")]
        """;

    [Fact]
    public async Task AValidAttributeSpecGeneratesCodeThatCompilesWithoutDiagnostics()
    {
        var test = new Test
        {
            TestCode = "using RnaLm.Specs;\n[RnaModel(\"tinyattr\")]\n[RnaDims(Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, MaxPositions = 128)]\n"
                + Sections + "\npartial class TinyAttr { }\n",
        };
        await test.RunAsync();
    }

    [Fact]
    public async Task AnAttributeRuleIsReportedAtTheArgument()
    {
        var test = new Test
        {
            TestCode = "using RnaLm.Specs;\n[RnaModel(\"tinyattr\")]\n[RnaDims(Hidden = 64, Layers = 2, Heads = {|RNA3001:5|}, Intermediate = 128, MaxPositions = 128)]\n"
                + Sections + "\npartial class TinyAttr { }\n",
        };
        await test.RunAsync();
    }

    [Fact]
    public async Task AnUnknownKindInAJsonSpecIsReportedAtItsName()
    {
        var test = new Test { TestCode = "class Empty { }\n" };
        test.TestState.AdditionalFiles.Add(("/specs/tiny.model.json", """
            {
              "spec_version": 2, "name": "tiny", "type_name": "Tiny",
              "dims": { "hidden": 64, "layers": 2, "heads": 4, "intermediate": 128, "max_positions": 128 },
              "norm": { "eps": 1e-12 },
              "position": "learned",
              "feed_forward": { "kind": {|RNA2004:"moe"|}, "activation": "gelu" },
              "pooler": { "in_checkpoint": false },
              "checkpoint": { "prefix": "model" }
            }
            """));
        await test.RunAsync();
    }

    [Fact]
    public async Task AFieldOfAnotherKindIsReportedAtItsName()
    {
        var test = new Test { TestCode = "class Empty { }\n" };
        test.TestState.AdditionalFiles.Add(("/specs/tiny.model.json", """
            {
              "spec_version": 2, "name": "tiny", "type_name": "Tiny",
              "dims": { "hidden": 64, "layers": 2, "heads": 4, "intermediate": 128, "max_positions": 128 },
              "norm": { "eps": 1e-12 },
              "position": "learned",
              "feed_forward": { "kind": "mlp", "activation": "gelu", {|RNA2006:"gate"|}: "swish_beta" },
              "pooler": { "in_checkpoint": false },
              "checkpoint": { "prefix": "model" }
            }
            """));
        await test.RunAsync();
    }
}
