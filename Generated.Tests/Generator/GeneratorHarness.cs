using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator;

namespace RnaLm.Tests.Generator;

/// <summary>An AdditionalText held in memory.</summary>
public sealed class InMemoryAdditionalText : AdditionalText
{
    private readonly SourceText _text;

    public InMemoryAdditionalText(string path, string text)
    {
        Path = path;
        _text = SourceText.From(text, System.Text.Encoding.UTF8);
    }

    public override string Path { get; }

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>Global analyzer options (build_property.*) for driver runs.</summary>
internal sealed class TestOptionsProvider : AnalyzerConfigOptionsProvider
{
    private readonly TestOptions _global;

    public TestOptionsProvider(IReadOnlyDictionary<string, string> global) => _global = new TestOptions(global);

    public override AnalyzerConfigOptions GlobalOptions => _global;

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => TestOptions.Empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => TestOptions.Empty;

    private sealed class TestOptions : AnalyzerConfigOptions
    {
        public static readonly TestOptions Empty = new(new Dictionary<string, string>());
        private readonly IReadOnlyDictionary<string, string> _values;

        public TestOptions(IReadOnlyDictionary<string, string> values) => _values = values;

        public override bool TryGetValue(string key, out string value)
        {
            if (_values.TryGetValue(key, out var v))
            {
                value = v;
                return true;
            }
            value = null!;
            return false;
        }
    }
}

/// <summary>Runs <see cref="ModelGenerator"/> in memory, the way the compiler does.</summary>
public static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // The test process also loads RnaLm.Models (the generator's real output): leave it out, or every type conflicts.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(System.IO.Path.PathSeparator)
            .Where(p => !Path.GetFileName(p).StartsWith("RnaLm.", StringComparison.Ordinal)).ToList();
        paths.Add(typeof(RnaLm.Models.IModelFamily).Assembly.Location);
        paths.Add(typeof(RnaLm.Specs.RnaModelAttribute).Assembly.Location);
        paths.Add(typeof(TorchSharp.torch).Assembly.Location);
        return paths.Where(File.Exists).Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static string RepoRoot([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    public static string DefinitionsDir => Path.Combine(RepoRoot(), "Definitions");

    public static CSharpCompilation Compilation(params string[] sources) =>
        CompilationOf(sources.Select((s, i) => ($"Source{i}.cs", s)).ToArray());

    /// <summary>A compilation of C# files with the given paths (attribute specs report diagnostics in them).</summary>
    public static CSharpCompilation CompilationOf(params (string Path, string Text)[] sources) => CSharpCompilation.Create(
        "RnaLm.Models",
        sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, new CSharpParseOptions(LanguageVersion.Latest), path: s.Path, encoding: System.Text.Encoding.UTF8)),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Runs the generator once over spec files and C# files with paths.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> DriverDiagnostics) RunFiles(
        IEnumerable<AdditionalText> specs, params (string Path, string Text)[] sources)
    {
        var driver = Driver(specs).RunGeneratorsAndUpdateCompilation(CompilationOf(sources), out var output, out var diagnostics);
        return (driver.GetRunResult(), output, diagnostics);
    }

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> specs, string rootNamespace = "RnaLm.Models") =>
        CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() },
            specs,
            new CSharpParseOptions(LanguageVersion.Latest),
            new TestOptionsProvider(new Dictionary<string, string> { ["build_property.RootNamespace"] = rootNamespace }),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once over the given spec files and returns the run and the output compilation.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(IEnumerable<AdditionalText> specs, params string[] sources)
    {
        var driver = Driver(specs).RunGeneratorsAndUpdateCompilation(Compilation(sources), out var output, out _);
        return (driver.GetRunResult(), output);
    }

    public static IReadOnlyList<AdditionalText> ShippedSpecs() =>
        Directory.GetFiles(DefinitionsDir, "*.model.json").OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (AdditionalText)new InMemoryAdditionalText(p, File.ReadAllText(p))).ToList();

    /// <summary>"ID severity file(line,col)-(line,col): message" lines, sorted, for assertions.</summary>
    public static IReadOnlyList<string> Describe(IEnumerable<Diagnostic> diagnostics) => diagnostics
        .Select(d =>
        {
            var span = d.Location.GetLineSpan();
            return $"{d.Id} {d.Severity} {Path.GetFileName(span.Path)}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})-({span.EndLinePosition.Line + 1},{span.EndLinePosition.Character + 1}): {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        })
        .OrderBy(s => s, StringComparer.Ordinal)
        .ToList();
}
