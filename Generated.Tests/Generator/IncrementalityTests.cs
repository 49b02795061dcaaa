using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// The generator's pipeline is cached step by step: a second run with the same inputs, an unrelated C# edit and a
/// whitespace-only spec edit regenerate nothing; editing one spec re-runs only that spec's steps (and those of the
/// specs that extend it); attribute specs stay cached across unrelated C# edits and an edited attribute argument
/// regenerates only its spec; and no step output holds a compilation, symbol or syntax object.
/// </summary>
public sealed class IncrementalityTests
{
    private static readonly string[] TrackedSteps =
        typeof(RnaLm.Generator.ModelGenerator).Assembly.GetType("RnaLm.Generator.TrackingNames")!
            .GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Select(f => (string)f.GetValue(null)!).ToArray();

    private static (InMemoryAdditionalText A, InMemoryAdditionalText B) TwoSpecs()
    {
        string path = Path.Combine(GeneratorHarness.DefinitionsDir, "splicebert.model.json");
        string text = File.ReadAllText(path);
        string other = text.Replace("\"splicebert", "\"otherbert", StringComparison.Ordinal)
            .Replace("\"SpliceBert\"", "\"OtherBert\"", StringComparison.Ordinal);
        return (new InMemoryAdditionalText("/specs/splicebert.model.json", text), new InMemoryAdditionalText("/specs/otherbert.model.json", other));
    }

    private static GeneratorDriver RunTwice(Func<GeneratorDriver, Compilation, InMemoryAdditionalText, (GeneratorDriver, Compilation)> change, out GeneratorRunResult second)
    {
        var (a, b) = TwoSpecs();
        var compilation = GeneratorHarness.Compilation("namespace User { public class A { } }");
        var driver = GeneratorHarness.Driver(new[] { a, b }).RunGenerators(compilation);
        var (changedDriver, changedCompilation) = change(driver, compilation, a);
        changedDriver = changedDriver.RunGenerators(changedCompilation);
        second = changedDriver.GetRunResult().Results.Single();
        return changedDriver;
    }

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorRunResult run, string step) =>
        run.TrackedSteps.TryGetValue(step, out var steps) ? steps.SelectMany(s => s.Outputs).Select(o => o.Reason) : Enumerable.Empty<IncrementalStepRunReason>();

    private static void AssertAllCached(GeneratorRunResult run)
    {
        foreach (var step in TrackedSteps)
        {
            Assert.All(Reasons(run, step), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
        Assert.All(run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason == IncrementalStepRunReason.Cached, $"output step: {o.Reason}"));
    }

    [Fact]
    public void SecondRunIsFullyCached()
    {
        RunTwice((d, c, _) => (d, c.Clone()), out var second);
        Assert.NotEmpty(Reasons(second, "ParseSpec"));
        AssertAllCached(second);
    }

    [Fact]
    public void UnrelatedCSharpEditLeavesEverythingCached()
    {
        RunTwice((d, c, _) => (d, c.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace User { public class B { } }"))), out var second);
        AssertAllCached(second);
    }

    [Fact]
    public void WhitespaceOnlySpecEditLeavesOutputsCached()
    {
        RunTwice((d, c, a) =>
        {
            var spaced = new InMemoryAdditionalText(a.Path, a.GetText()!.ToString().Replace("\n", "\n  ", StringComparison.Ordinal));
            return (d.ReplaceAdditionalText(a, spaced), c);
        }, out var second);
        Assert.Contains(IncrementalStepRunReason.Unchanged, Reasons(second, "ParseSpec"));
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void EditingOneSpecRegeneratesOnlyItsOutputs()
    {
        var (a, b) = TwoSpecs();
        var compilation = GeneratorHarness.Compilation();
        var driver = GeneratorHarness.Driver(new[] { a, b }).RunGenerators(compilation);
        var edited = new InMemoryAdditionalText(b.Path, b.GetText()!.ToString().Replace("\"layers\": 6", "\"layers\": 4", StringComparison.Ordinal));
        driver = driver.ReplaceAdditionalText(b, edited).RunGenerators(compilation);
        var run = driver.GetRunResult().Results.Single();
        var parse = Reasons(run, "ParseSpec").ToList();
        Assert.Equal(2, parse.Count);
        Assert.Single(parse, r => r == IncrementalStepRunReason.Modified);
        Assert.Single(parse, r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        var valid = Reasons(run, "ValidSpec").ToList();
        Assert.Single(valid, r => r == IncrementalStepRunReason.Modified);
        var generated = run.GeneratedSources.Select(s => s.HintName).ToList();
        Assert.Contains(generated, h => h.Contains("OtherBert", StringComparison.Ordinal));
        Assert.Contains(run.GeneratedSources, s => s.HintName.Contains("OtherBertConfig", StringComparison.Ordinal) && s.SourceText.ToString().Contains("NumHiddenLayers { get; init; } = 4;", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- extends

    private static InMemoryAdditionalText Child(string baseName = "splicebert") => new("/specs/child.model.json",
        "{ \"spec_version\": 2, \"name\": \"child\", \"type_name\": \"Child\", \"extends\": \"" + baseName + "\", \"layer\": \"pre_norm\" }");

    [Fact]
    public void EditingABaseReRunsItAndTheSpecsThatExtendItOnly()
    {
        var (a, b) = TwoSpecs();
        var child = Child();
        var compilation = GeneratorHarness.Compilation();
        var driver = GeneratorHarness.Driver(new[] { a, b, child }).RunGenerators(compilation);
        Assert.Empty(driver.GetRunResult().Diagnostics);
        var edited = new InMemoryAdditionalText(a.Path, a.GetText()!.ToString().Replace("\"layers\": 6", "\"layers\": 4", StringComparison.Ordinal));
        driver = driver.ReplaceAdditionalText(a, edited).RunGenerators(compilation);
        var run = driver.GetRunResult().Results.Single();

        // The three specs are parsed in input order: splicebert (edited), otherbert (unrelated), child (extends splicebert).
        var parse = Reasons(run, "ParseSpec").ToList();
        Assert.Equal(new[] { IncrementalStepRunReason.Modified, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Modified }, parse);
        var emit = Reasons(run, "EmitSpec").ToList();
        Assert.Equal(IncrementalStepRunReason.Cached, emit[1]);
        var generated = run.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        Assert.Contains("NumHiddenLayers { get; init; } = 4;", generated["RnaLm.Models.ChildConfig.g.cs"], StringComparison.Ordinal);
        Assert.Contains("NumHiddenLayers { get; init; } = 6;", generated["RnaLm.Models.OtherBertConfig.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void EditingAChildReRunsOnlyTheChild()
    {
        var (a, b) = TwoSpecs();
        var child = Child();
        var compilation = GeneratorHarness.Compilation();
        var driver = GeneratorHarness.Driver(new[] { a, b, child }).RunGenerators(compilation);
        var edited = new InMemoryAdditionalText(child.Path, child.GetText()!.ToString().Replace("\"pre_norm\"", "\"post_norm\"", StringComparison.Ordinal));
        driver = driver.ReplaceAdditionalText(child, edited).RunGenerators(compilation);
        var run = driver.GetRunResult().Results.Single();
        Assert.Equal(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Modified }, Reasons(run, "ParseSpec"));
        var emit = Reasons(run, "EmitSpec").ToList();
        Assert.Equal(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Modified }, emit);
    }

    // ---------------------------------------------------------------- attribute specs

    private static (string Path, string Text) AttributeSpec(string name, string typeName, int layers) => ("/src/" + typeName + ".cs", $$"""
        using RnaLm.Specs;
        namespace User;
        [RnaModel("{{name}}", TypeName = "{{typeName}}")]
        [RnaDims(Hidden = 64, Layers = {{layers}}, Heads = 4, Intermediate = 128, MaxPositions = 128)]
        [RnaNorm(Eps = 1e-12)]
        [RnaPosition(Kind = RnaPositionKind.Learned)]
        [RnaFeedForward(Activation = RnaActivation.Gelu)]
        [RnaPooler(InCheckpoint = false)]
        [RnaCheckpoint(Prefix = "model")]
        public partial class {{typeName}}Spec { }
        """);

    [Fact]
    public void UnrelatedCSharpEditLeavesAttributeSpecOutputsCached()
    {
        var (a, _) = TwoSpecs();
        var compilation = GeneratorHarness.CompilationOf(AttributeSpec("tinyone", "TinyOne", 2), AttributeSpec("tinytwo", "TinyTwo", 2), ("/src/User.cs", "namespace User { public class A { } }"));
        var driver = GeneratorHarness.Driver(new[] { a }).RunGenerators(compilation);
        Assert.Empty(driver.GetRunResult().Diagnostics);
        Assert.Contains(driver.GetRunResult().GeneratedTrees, t => t.FilePath.EndsWith("User.TinyOneSpec.RnaModel.g.cs", StringComparison.Ordinal));
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("namespace User { public class A { public int X; } }", new CSharpParseOptions(LanguageVersion.Latest), path: "/src/User.cs"));
        driver = driver.RunGenerators(edited.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace User { public class B { } }", new CSharpParseOptions(LanguageVersion.Latest), path: "/src/B.cs")));
        var run = driver.GetRunResult().Results.Single();
        Assert.NotEmpty(Reasons(run, "ReadAttributeSpec"));
        AssertAllCached(run);
    }

    [Fact]
    public void EditingAnAttributeArgumentRegeneratesOnlyThatSpec()
    {
        var (a, _) = TwoSpecs();
        var compilation = GeneratorHarness.CompilationOf(AttributeSpec("tinyone", "TinyOne", 2), AttributeSpec("tinytwo", "TinyTwo", 2));
        var driver = GeneratorHarness.Driver(new[] { a }).RunGenerators(compilation);
        var two = AttributeSpec("tinytwo", "TinyTwo", 3);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText(two.Text, new CSharpParseOptions(LanguageVersion.Latest), path: two.Path, encoding: System.Text.Encoding.UTF8));
        driver = driver.RunGenerators(edited);
        var run = driver.GetRunResult().Results.Single();
        var parse = Reasons(run, "ParseAttributeSpec").ToList();
        Assert.Equal(2, parse.Count);
        Assert.Single(parse, r => r == IncrementalStepRunReason.Modified);
        Assert.Single(parse, r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        Assert.All(Reasons(run, "ParseSpec"), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        var emit = Reasons(run, "EmitAttributeSpec").ToList();
        Assert.Single(emit, r => r == IncrementalStepRunReason.Modified);
        Assert.Single(emit, r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        var config = run.GeneratedSources.Single(s => s.HintName == "RnaLm.Models.TinyTwoConfig.g.cs").SourceText.ToString();
        Assert.Contains("NumHiddenLayers { get; init; } = 3;", config, StringComparison.Ordinal);
    }

    [Fact]
    public void NoStepOutputHoldsCompilationSymbolOrSyntax()
    {
        var (a, b) = TwoSpecs();
        var driver = GeneratorHarness.Driver(new[] { a, b, Child() }).RunGenerators(GeneratorHarness.CompilationOf(AttributeSpec("tinyone", "TinyOne", 2)));
        var run = driver.GetRunResult().Results.Single();
        Assert.NotEmpty(Reasons(run, "ReadAttributeSpec"));
        Assert.NotEmpty(Reasons(run, "ResolveSpec"));
        foreach (var (step, runs) in run.TrackedSteps.Where(s => TrackedSteps.Contains(s.Key)))
        {
            foreach (var output in runs.SelectMany(r => r.Outputs))
            {
                AssertNoBannedObjects(output.Value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }
    }

    private static void AssertNoBannedObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.False(value is Compilation or ISymbol or SyntaxNode or SyntaxTree or SemanticModel or AdditionalText,
            $"{path} holds a {value.GetType().Name}");
        if (value is DiagnosticDescriptor or Microsoft.CodeAnalysis.Text.TextSpan or Microsoft.CodeAnalysis.Text.LinePositionSpan) return;
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (var item in items) AssertNoBannedObjects(item, $"{path}[{i++}]", seen);
            return;
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoBannedObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
        }
    }
}
