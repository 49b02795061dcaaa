using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Spec;
using Xunit;
using static RnaLm.Tests.Generator.SpecTestKit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// Keeps docs/diagnostics honest: every id has a page whose message matches the descriptor, and each
/// page's "Wrong" spec (JSON, or C# for attribute specs) really produces the diagnostic line it shows while
/// its "Fixed" spec does not.
/// </summary>
public class DiagnosticDocsTests
{
    /// <summary>Pages whose examples are not a single spec file (two files; a generator bug).</summary>
    private static readonly string[] IllustrativeOnly = { "RNA4004", "RNA9001" };

    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (var d in DiagnosticDescriptors.All) data.Add(d.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void PageExistsAndShowsTheDescriptorsMessage(string id)
    {
        var descriptor = DiagnosticDescriptors.All.Single(d => d.Id == id);
        var page = File.ReadAllText(RepoFile("docs/diagnostics/" + id + ".md"));
        Assert.StartsWith("# " + id + ": " + descriptor.Title + "\n", page, StringComparison.Ordinal);
        Assert.Contains("| Message | `" + descriptor.MessageFormat + "` |", page, StringComparison.Ordinal);
        Assert.Contains("| Severity | " + descriptor.DefaultSeverity.ToString().ToLowerInvariant() + " |", page, StringComparison.Ordinal);
        Assert.Contains("[" + id + "](diagnostics/" + id + ".md)", File.ReadAllText(RepoFile("docs/spec.md")), StringComparison.Ordinal);
        Assert.Contains(id + " | RnaLm.Spec | " + descriptor.DefaultSeverity, File.ReadAllText(RepoFile("Generator/AnalyzerReleases.Unshipped.md")), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void WrongExampleProducesTheShownDiagnosticAndFixedExampleDoesNot(string id)
    {
        if (IllustrativeOnly.Contains(id)) return;
        var page = File.ReadAllText(RepoFile("docs/diagnostics/" + id + ".md"));
        var wrong = Regex.Match(page, "## Wrong\n\n```(json|csharp)\n(.*?)\n```\n\n```text\n(.*?)\n```\n", RegexOptions.Singleline);
        var fixedBlock = Regex.Match(page, "## Fixed\n\n```(json|csharp)\n(.*?)\n```\n", RegexOptions.Singleline);
        Assert.True(wrong.Success && fixedBlock.Success, id + ": page lacks a json or csharp Wrong example with its output, or a Fixed example");

        var printed = Diagnostics(wrong.Groups[1].Value, wrong.Groups[2].Value);
        Assert.True(printed.Contains(wrong.Groups[3].Value), id + ": the page shows\n" + wrong.Groups[3].Value + "\nbut the spec gives\n" + string.Join("\n", printed));

        var fixedResult = Diagnostics(fixedBlock.Groups[1].Value, fixedBlock.Groups[2].Value);
        Assert.True(fixedResult.Count == 0, id + ": the fixed example still gives\n" + string.Join("\n", fixedResult));
    }

    /// <summary>
    /// The diagnostics of an example as a build prints them. A JSON example is the file tiny.model.json and may extend
    /// the shipped specs; a C# example is the file TinySpec.cs of a project that also has the shipped specs.
    /// </summary>
    private static List<string> Diagnostics(string language, string example)
    {
        if (language == "json")
        {
            var shipped = GeneratorHarness.ShippedSpecs()
                .Select(s => SpecParser.ReadDocument(s.Path, s.GetText()!, CancellationToken.None)).ToList();
            var parsed = SpecParser.Parse("tiny.model.json", SourceText.From(example), shipped, CancellationToken.None);
            return parsed.Diagnostics.Select(Render).ToList();
        }
        var run = GeneratorHarness.RunFiles(GeneratorHarness.ShippedSpecs(), ("/src/TinySpec.cs", example));
        return run.Result.Diagnostics.Select(d =>
        {
            var span = d.Location.GetLineSpan();
            return $"{Path.GetFileName(span.Path)}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): {d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        }).ToList();
    }

    private static string Render(RnaLm.Generator.Model.DiagnosticInfo d)
    {
        var start = d.Location!.LineSpan.Start;
        return $"{Path.GetFileName(d.Location.FilePath)}({start.Line + 1},{start.Character + 1}): {d.Descriptor.DefaultSeverity.ToString().ToLowerInvariant()} {d.Descriptor.Id}: {Message(d)}";
    }
}
