using System;
using System.IO;
using System.Linq;
using RnaLm.Heads;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>Task heads are declared in the spec: only declared heads are generated, with the declared transform.</summary>
public sealed class TaskHeadSpecTests
{
    private static string Spec(string heads)
    {
        string text = File.ReadAllText(Path.Combine(GeneratorHarness.DefinitionsDir, "splicebert.model.json"));
        int start = text.IndexOf("  \"heads\": {", StringComparison.Ordinal);
        int end = text.IndexOf("  \"tokenizer\": {", StringComparison.Ordinal);
        return text.Substring(0, start) + heads + text.Substring(end);
    }

    private static string Models(string spec)
    {
        var (result, output) = GeneratorHarness.Run(new[] { new InMemoryAdditionalText("/specs/splicebert.model.json", spec) });
        Assert.Empty(GeneratorHarness.Describe(result.Diagnostics));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        return result.Results.Single().GeneratedSources.Single(s => s.HintName.EndsWith("Models.g.cs", StringComparison.Ordinal)).SourceText.ToString();
    }

    [Fact]
    public void OnlyDeclaredHeadsAreGenerated()
    {
        string models = Models(Spec("  \"heads\": { \"token\": {} },\n"));
        Assert.Contains("class SpliceBertForTokenPrediction", models);
        Assert.DoesNotContain("ForSequencePrediction", models);
        Assert.DoesNotContain("ForContactPrediction", models);
    }

    [Fact]
    public void NoHeadsSectionMeansOnlyTheMaskedLM()
    {
        string models = Models(Spec(""));
        Assert.Contains("class SpliceBertForMaskedLM", models);
        Assert.DoesNotContain("Prediction :", models);
    }

    [Fact]
    public void DeclaredTransformIsPassedToTheRuntimeHead()
    {
        string models = Models(Spec("  \"heads\": { \"sequence\": { \"transform\": \"nonlinear\", \"transform_activation\": \"relu\", \"layer_norm_eps\": 1e-5 } },\n"));
        Assert.Contains("global::RnaLm.Heads.HeadTransform.Create(\"nonlinear\", config.HiddenSize, \"relu\", 1E-05)", models);
    }

    [Fact]
    public void TransformedHeadsHaveMultiMoleculeKeys()
    {
        using var linear = new SequencePredictionHead(8, 3, HeadTransform.Create("linear", 8, "gelu", 1e-12));
        Assert.Equal(
            new[] { "decoder.bias", "decoder.weight", "transform.dense.bias", "transform.dense.weight", "transform.layer_norm.bias", "transform.layer_norm.weight" },
            linear.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        using var plain = new TokenPredictionHead(8, 2, 1, 2, HeadTransform.Create("none", 8, "gelu", 1e-12));
        Assert.Equal(new[] { "decoder.bias", "decoder.weight" }, plain.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void UndeclaredTaskIsRefusedWithTheSpecFieldToAdd()
    {
        var family = RnaLm.Models.ModelCatalog.Registry.GetFamily("splicebert");
        var config = family.Variants[0].Config;
        using var module = family.CreatePredictionModel(config, RnaLm.Models.PredictionTask.Contact, 1).Module;
        Assert.NotNull(module); // declared in Definitions/splicebert.model.json
    }

    [Theory]
    [InlineData("  \"heads\": { \"token\": 3 },\n", "RNA2002")]
    [InlineData("  \"heads\": { \"token\": { \"transfrom\": \"none\" } },\n", "RNA2001")]
    [InlineData("  \"heads\": { \"token\": { \"transform\": \"deep\" } },\n", "RNA2004")]
    public void MistakesInHeadsAreLocatedDiagnostics(string heads, string id)
    {
        string spec = Spec(heads);
        var (result, _) = GeneratorHarness.Run(new[] { new InMemoryAdditionalText("/specs/splicebert.model.json", spec) });
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        int line = spec.Substring(0, spec.IndexOf(heads, StringComparison.Ordinal)).Count(c => c == '\n');
        Assert.Equal(line, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
    }
}
