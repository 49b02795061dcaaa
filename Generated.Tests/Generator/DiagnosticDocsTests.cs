using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using RnaLm.Generator.Diagnostics;
using Xunit;
using static RnaLm.Tests.Generator.SpecTestKit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// Keeps docs/diagnostics honest: every id has a page whose message matches the descriptor, and each
/// page's "Wrong" spec really produces the diagnostic line it shows while its "Fixed" spec does not.
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
        var wrong = Regex.Match(page, "## Wrong\n\n```json\n(.*?)\n```\n\n```text\n(.*?)\n```\n", RegexOptions.Singleline);
        var fixedBlock = Regex.Match(page, "## Fixed\n\n```json\n(.*?)\n```\n", RegexOptions.Singleline);
        Assert.True(wrong.Success && fixedBlock.Success, id + ": page lacks a json Wrong example with its output, or a json Fixed example");

        var wrongResult = Parse(wrong.Groups[1].Value, "tiny.model.json");
        var printed = wrongResult.Diagnostics.Select(Render).ToList();
        Assert.True(printed.Contains(wrong.Groups[2].Value), id + ": the page shows\n" + wrong.Groups[2].Value + "\nbut the spec gives\n" + string.Join("\n", printed));

        var fixedResult = Parse(fixedBlock.Groups[1].Value, "tiny.model.json");
        Assert.True(fixedResult.Diagnostics.Count == 0, id + ": the fixed example still gives\n" + Dump(fixedResult.Diagnostics));
    }

    private static string Render(RnaLm.Generator.Model.DiagnosticInfo d)
    {
        var start = d.Location!.LineSpan.Start;
        return $"tiny.model.json({start.Line + 1},{start.Character + 1}): {d.Descriptor.DefaultSeverity.ToString().ToLowerInvariant()} {d.Descriptor.Id}: {Message(d)}";
    }
}
