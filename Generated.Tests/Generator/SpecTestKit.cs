using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Model;
using RnaLm.Generator.Spec;
using Xunit;

namespace RnaLm.Tests.Generator;

/// <summary>Small spec texts and assertions for the parser and diagnostics tests.</summary>
internal static class SpecTestKit
{
    public const string TestPath = "/specs/tiny.model.json";

    /// <summary>The top-level fields of a minimal valid spec, one per line (line 2 onward), in this order.</summary>
    private static readonly (string Key, string Json)[] TinyFields =
    {
        ("spec_version", "2"),
        ("name", "\"tiny\""),
        ("type_name", "\"Tiny\""),
        ("dims", "{ \"hidden\": 64, \"layers\": 2, \"heads\": 4, \"intermediate\": 128, \"max_positions\": 128 }"),
        ("norm", "{ \"eps\": 1e-12 }"),
        ("position", "\"learned\""),
        ("feed_forward", "{ \"activation\": \"gelu\" }"),
        ("pooler", "{ \"in_checkpoint\": false }"),
        ("checkpoint", "{ \"prefix\": \"model\" }"),
    };

    /// <summary>
    /// A minimal valid spec with some top-level fields replaced (null removes the line) or appended.
    /// Layout: "{" on line 1, then one field per line as <c>  "key": json,</c>, so field i is on line
    /// i + 2 and its value starts at column key.Length + 7 (1-based).
    /// </summary>
    public static string Tiny(params (string Key, string? Json)[] changes)
    {
        var fields = TinyFields.Select(f => (f.Key, (string?)f.Json)).ToList();
        foreach (var (key, json) in changes)
        {
            int index = fields.FindIndex(f => f.Key == key);
            if (index >= 0) fields[index] = (key, json);
            else fields.Add((key, json));
        }
        var lines = fields.Where(f => f.Item2 is not null).Select(f => "  \"" + f.Key + "\": " + f.Item2);
        return "{\n" + string.Join(",\n", lines) + "\n}\n";
    }

    /// <summary>A parsed slot as the parser builds it: the kind's fields in order, defaults where not given.</summary>
    public static RnaLm.Generator.Kinds.KindSpec KindOf(string slot, string kind, params (string Name, object? Value)[] values)
    {
        var definition = RnaLm.Generator.Kinds.KindRegistry.Slot(slot).Find(kind)!;
        var list = definition.Fields.Select(f =>
        {
            var given = values.Where(v => v.Name == f.Name).ToList();
            return new RnaLm.Generator.Kinds.KindValue(f.Name, given.Count > 0 ? given[0].Value : f.Default);
        });
        Assert.All(values, v => Assert.NotNull(definition.Field(v.Name)));
        return new RnaLm.Generator.Kinds.KindSpec(slot, kind, new EquatableArray<RnaLm.Generator.Kinds.KindValue>(list));
    }

    public static ParsedSpec Parse(string json, string path = TestPath) =>
        SpecParser.Parse(path, SourceText.From(json), CancellationToken.None);

    /// <summary>The path of a file of this repository, found by walking up from the calling test file.</summary>
    public static string RepoFile(string relativePath, [CallerFilePath] string callerPath = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(callerPath)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dsl.sln"))) dir = dir.Parent;
        Assert.True(dir is not null, "repository root not found above " + callerPath);
        return Path.Combine(dir!.FullName, relativePath);
    }

    /// <summary>The text of a file under Definitions/ in this repository.</summary>
    public static string Definition(string fileName, [CallerFilePath] string callerPath = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(callerPath)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Definitions", fileName))) dir = dir.Parent;
        Assert.True(dir is not null, "Definitions/" + fileName + " not found above " + callerPath);
        return File.ReadAllText(Path.Combine(dir!.FullName, "Definitions", fileName));
    }

    /// <summary>
    /// Asserts that the parse produced exactly one diagnostic with <paramref name="id"/> and returns
    /// it after checking severity and its 1-based (line, column) start and end, as a build prints them.
    /// </summary>
    public static DiagnosticInfo Single(ParsedSpec parsed, string id, DiagnosticSeverity severity,
        (int Line, int Column) start, (int Line, int Column) end)
    {
        var matches = parsed.Diagnostics.Where(d => d.Descriptor.Id == id).ToList();
        Assert.True(matches.Count == 1, $"expected one {id}, got:\n{Dump(parsed.Diagnostics)}");
        var diagnostic = matches[0];
        AssertAt(diagnostic, severity, start, end);
        return diagnostic;
    }

    public static void AssertAt(DiagnosticInfo diagnostic, DiagnosticSeverity severity, (int Line, int Column) start, (int Line, int Column) end)
    {
        Assert.Equal(severity, diagnostic.Descriptor.DefaultSeverity);
        Assert.NotNull(diagnostic.Location);
        var span = diagnostic.Location!.LineSpan;
        var actual = ((span.Start.Line + 1, span.Start.Character + 1), (span.End.Line + 1, span.End.Character + 1));
        Assert.True((start, end) == actual,
            $"{diagnostic.Descriptor.Id} expected at {start}-{end}, but is at {actual.Item1}-{actual.Item2} (text span {diagnostic.Location.Span}): {Message(diagnostic)}");
    }

    /// <summary>The only diagnostic of the parse (asserting there is exactly one and that the spec is null for errors).</summary>
    public static DiagnosticInfo Only(ParsedSpec parsed, string id, DiagnosticSeverity severity,
        (int Line, int Column) start, (int Line, int Column) end)
    {
        Assert.True(parsed.Diagnostics.Count == 1, $"expected only {id}, got:\n{Dump(parsed.Diagnostics)}");
        var diagnostic = Single(parsed, id, severity, start, end);
        if (severity == DiagnosticSeverity.Error) Assert.Null(parsed.Spec);
        else Assert.NotNull(parsed.Spec);
        return diagnostic;
    }

    /// <summary>The source text a diagnostic points at.</summary>
    public static string Covered(string json, DiagnosticInfo diagnostic) =>
        json.Substring(diagnostic.Location!.Span.Start, diagnostic.Location.Span.Length);

    public static string Message(DiagnosticInfo diagnostic) => diagnostic.ToDiagnostic().GetMessage(System.Globalization.CultureInfo.InvariantCulture);

    public static void AssertClean(ParsedSpec parsed)
    {
        Assert.True(parsed.Diagnostics.Count == 0, "unexpected diagnostics:\n" + Dump(parsed.Diagnostics));
        Assert.NotNull(parsed.Spec);
    }

    public static string Dump(IEnumerable<DiagnosticInfo> diagnostics) => string.Join("\n", diagnostics.Select(d =>
    {
        var s = d.Location?.LineSpan ?? default;
        return $"{d.Descriptor.Id} {d.Descriptor.DefaultSeverity} ({s.Start.Line + 1},{s.Start.Character + 1})-({s.End.Line + 1},{s.End.Character + 1}): {Message(d)}";
    }));
}
