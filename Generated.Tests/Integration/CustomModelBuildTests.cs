using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using RnaLm.Tests.Generator;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Integration;

/// <summary>
/// Builds <c>samples/CustomModel</c> the way a user does, with <c>dotnet build</c>, from a copy in a temporary folder
/// (its relative ProjectReferences rewritten to absolute paths). One build adds one spec file per common mistake of
/// the sample's README and must fail with each mistake's documented diagnostic at the exact line and column of the
/// offending token, and with nothing else; a second build without them must succeed and leave the generated code
/// under obj/generated. The referenced Runtime and Generator are the ones this test project was built with
/// (<c>BuildProjectReferences=false</c>), so only the sample itself is compiled.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CustomModelBuildTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(4);

    private readonly ITestOutputHelper _output;

    public CustomModelBuildTests(ITestOutputHelper output) => _output = output;

    private static string SampleDir => Path.Combine(GeneratorHarness.RepoRoot(), "samples", "CustomModel");

    /// <summary>One mistake introduced into a copy of <c>tinyrna.model.json</c>.</summary>
    /// <param name="File">The extra spec file (named to sort after <c>tinyrna.model.json</c>, so RNA4004 lands in it).</param>
    /// <param name="Id">The diagnostic the build must report.</param>
    /// <param name="Edit">The mistake, applied to the sample spec's text.</param>
    /// <param name="Marker">A text that occurs exactly once in the edited spec and contains the offending token.</param>
    /// <param name="Token">The offending token inside <paramref name="Marker"/>; the diagnostic must start at its first character.</param>
    /// <param name="MessagePart">Text the message must contain (e.g. the "did you mean" suggestion), or null.</param>
    /// <param name="KeepNames">Keep the sample's model and type names (the duplicate-name mistake); otherwise they are
    /// made unique so that each file reports only its own mistake.</param>
    public sealed record Mistake(string File, string Id, Func<string, string> Edit, string Marker, string Token, string? MessagePart = null, bool KeepNames = false);

    /// <summary>The common mistakes of samples/CustomModel/README.md, in its order.</summary>
    public static IReadOnlyList<Mistake> Mistakes { get; } = new[]
    {
        new Mistake("zz01-trailing-comma.model.json", "RNA1001",
            s => Replace(s, "\"final\": \"layer_norm\"\n  }", "\"final\": \"layer_norm\",\n  }"), "\"final\": \"layer_norm\",\n  }", "}", "trailing comma"),
        new Mistake("zz02-misspelled-field.model.json", "RNA2001",
            s => Replace(s, "\"final\": \"layer_norm\"", "\"finale\": \"layer_norm\""), "\"finale\"", "\"finale\"", "did you mean 'final'"),
        new Mistake("zz03-string-for-number.model.json", "RNA2002",
            s => Replace(s, "\"layers\": 2,", "\"layers\": \"2\","), "\"layers\": \"2\"", "\"2\""),
        new Mistake("zz04-missing-eps.model.json", "RNA2003",
            s => Replace(s, "\"eps\": 1e-5,\n    ", ""), "\"norm\": {", "{", "eps"),
        new Mistake("zz05-unknown-activation.model.json", "RNA2004",
            s => Replace(s, "\"activation\": \"silu\"", "\"activation\": \"swish\""), "\"swish\"", "\"swish\""),
        new Mistake("zz06-heads-do-not-divide-hidden.model.json", "RNA3001",
            s => Replace(s, "\"heads\": 4", "\"heads\": 5"), "\"heads\": 5", "5"),
        new Mistake("zz07-odd-rotary-dim.model.json", "RNA3004",
            s => Replace(s, "\"dim\": 16", "\"dim\": 15"), "\"dim\": 15", "15"),
        new Mistake("zz08-rotary-dim-above-head-size.model.json", "RNA3004",
            s => Replace(s, "\"dim\": 16", "\"dim\": 32"), "\"dim\": 32", "32", "head size 16"),
        new Mistake("zz09-pair-prior-on-2mers.model.json", "RNA3005",
            s => Replace(s, "\"softmax\": \"keys\"", "\"softmax\": \"keys\",\n    \"biases\": { \"pair_prior\": { \"alpha\": 0.8 } }"),
            "\"k\": 2", "2", "single-letter tokens A, C, G and U"),
        new Mistake("zz10-learned-positions-too-short.model.json", "RNA3003",
            s => Replace(Replace(s, "{ \"kind\": \"rotary\", \"dim\": 16, \"base\": 10000 }", "\"learned\""), "\"intermediate\": 256", "\"intermediate\": 256,\n    \"max_positions\": 128"),
            "\"model_max_length\": 256", "256"),
        new Mistake("zz11-duplicate-letter.model.json", "RNA3006",
            s => Replace(s, "\"T\", \"N\"]", "\"T\", \"U\"]"), "\"T\", \"U\"]", "\"U\""),
        new Mistake("zz12-invalid-alias-regex.model.json", "RNA3009",
            s => Replace(s, "\"prefix\": \"model\",", "\"prefix\": \"model\",\n    \"aliases\": [{ \"pattern\": \"^model\\\\.layers\\\\.(\\\\d+\\\\.\", \"replacement\": \"model.encoder.layer.$1.\" }],"),
            "\"pattern\": \"^model", "\"^"),
        new Mistake("zz13-variant-misspelled-field.model.json", "RNA4001",
            s => Replace(s, "{ \"tokenizer\": { \"segmentation\":", "{ \"tokenizer\": { \"segmentaton\":"), "\"segmentaton\"", "\"segmentaton\"", "did you mean 'segmentation'"),
        new Mistake("zz14-variant-changes-architecture.model.json", "RNA4002",
            s => Replace(s, "\"k\": 2 } } }", "\"k\": 2 } }, \"layer\": \"post_norm\" }"),
            "\"layer\": \"post_norm\"", "\"layer\""),
        new Mistake("zz15-duplicate-model-name.model.json", "RNA4004",
            s => Replace(Replace(s, "\"TinyRna\"", "\"TinyRnaTwin\""), ",\n  \"variants\": {\n    \"tinyrna\": {},\n    \"tinyrna-2mer\": { \"tokenizer\": { \"segmentation\": { \"kind\": \"kmer\", \"k\": 2 } } }\n  }", ""),
            "\"name\": \"tinyrna\"", "\"tinyrna\"", "tinyrna.model.json", KeepNames: true),
    };

    private static string Replace(string text, string old, string replacement)
    {
        int at = text.IndexOf(old, StringComparison.Ordinal);
        if (at < 0 || text.IndexOf(old, at + 1, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"The sample spec must contain '{old}' exactly once for this mistake.");
        }
        return text.Replace(old, replacement, StringComparison.Ordinal);
    }

    /// <summary>The mistake's spec text and the 1-based line and column where its diagnostic must start.</summary>
    private static (string Text, int Line, int Column) Apply(Mistake mistake, string sampleSpec, int index)
    {
        string text = mistake.Edit(sampleSpec);
        if (!mistake.KeepNames)
        {
            string tag = "zz" + (index + 1).ToString("00", System.Globalization.CultureInfo.InvariantCulture);
            text = text.Replace("\"tinyrna", "\"" + tag + "-tinyrna", StringComparison.Ordinal)
                .Replace("\"TinyRna\"", "\"TinyRnaZz" + tag.Substring(2) + "\"", StringComparison.Ordinal);
        }
        int marker = text.IndexOf(mistake.Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0 && text.IndexOf(mistake.Marker, marker + 1, StringComparison.Ordinal) < 0,
            $"{mistake.File}: the marker must occur exactly once in the edited spec");
        int inMarker = mistake.Marker.IndexOf(mistake.Token, StringComparison.Ordinal);
        Assert.True(inMarker >= 0, $"{mistake.File}: the token is not part of the marker");
        int offset = marker + inMarker;
        int line = 1 + text.Take(offset).Count(c => c == '\n');
        int lineStart = offset == 0 ? 0 : text.LastIndexOf('\n', offset - 1) + 1;
        return (text, line, offset - lineStart + 1);
    }

    [Fact]
    public void SampleBuildsAndEachDocumentedMistakeFailsTheBuildAtItsToken()
    {
        var total = Stopwatch.StartNew();
        string work = Path.Combine(Path.GetTempPath(), "rnalm-custommodel-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        try
        {
            string project = CopySample(work);
            string sampleSpec = File.ReadAllText(Path.Combine(work, "tinyrna.model.json")).Replace("\r\n", "\n", StringComparison.Ordinal);

            var restore = Dotnet(work, "restore", "CustomModel.csproj", "-nologo", "-v:q");
            Assert.True(restore.ExitCode == 0, "restore failed:\n" + restore.Output);

            // Build 1: every mistake at once, each in its own spec file.
            var expected = new Dictionary<string, (Mistake Mistake, int Line, int Column)>(StringComparer.Ordinal);
            for (int i = 0; i < Mistakes.Count; i++)
            {
                var (text, line, column) = Apply(Mistakes[i], sampleSpec, i);
                File.WriteAllText(Path.Combine(work, Mistakes[i].File), text, new UTF8Encoding(false));
                expected[Mistakes[i].File] = (Mistakes[i], line, column);
            }
            var failing = Build(work, project);
            Assert.True(failing.ExitCode != 0, "the build with mistakes succeeded:\n" + failing.Output);
            var errors = ParseErrors(failing.Output);
            var problems = new List<string>();
            foreach (var (file, (mistake, line, column)) in expected)
            {
                var reported = errors.Where(e => e.File == file).Select(e => (e.Id, e.Line, e.Column)).Distinct().ToList();
                var want = (mistake.Id, line, column);
                if (reported.Count != 1 || reported[0] != want)
                {
                    problems.Add($"{file}: expected error {mistake.Id} at ({line},{column}), got [{string.Join("; ", reported.Select(r => $"{r.Id} at ({r.Line},{r.Column})"))}]");
                }
                else if (mistake.MessagePart is { } part && !errors.Any(e => e.File == file && e.Message.Contains(part, StringComparison.Ordinal)))
                {
                    problems.Add($"{file}: the {mistake.Id} message does not mention \"{part}\": {errors.First(e => e.File == file).Message}");
                }
            }
            foreach (var stray in errors.Where(e => !expected.ContainsKey(e.File)).Select(e => $"{e.File}({e.Line},{e.Column}): {e.Id}").Distinct())
            {
                problems.Add("unexpected error " + stray);
            }
            Assert.True(problems.Count == 0, string.Join("\n", problems) + "\n\nbuild output:\n" + failing.Output);

            // Build 2: the unmodified sample.
            foreach (var mistake in Mistakes) File.Delete(Path.Combine(work, mistake.File));
            var passing = Build(work, project);
            Assert.True(passing.ExitCode == 0, "the unmodified sample does not build:\n" + passing.Output);
            string generated = Path.Combine(work, "obj", "generated", "RnaLm.Generator", "RnaLm.Generator.ModelGenerator");
            foreach (string file in new[] { "CustomModel.Models.TinyRnaConfig.g.cs", "CustomModel.Models.TinyRnaModules.g.cs", "ModelCatalog.g.cs" })
            {
                Assert.True(File.Exists(Path.Combine(generated, file)), $"{file} is not under {generated}");
            }
            Assert.True(File.Exists(Path.Combine(work, "bin", Configuration, "net10.0", "CustomModel.dll")));
            _output.WriteLine($"restore {restore.Elapsed.TotalSeconds:F1} s, build with {Mistakes.Count} mistakes {failing.Elapsed.TotalSeconds:F1} s, " +
                $"clean build {passing.Elapsed.TotalSeconds:F1} s, total {total.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The README's table of common mistakes lists exactly the diagnostics this test introduces, with links to their pages.</summary>
    [Fact]
    public void ReadmeListsTheTestedMistakes()
    {
        string readme = File.ReadAllText(Path.Combine(SampleDir, "README.md"));
        var rows = Regex.Matches(readme, @"^\| (?<n>\d+) \|.*\[(?<id>RNA\d{4})\]\(\.\./\.\./docs/diagnostics/(?<page>RNA\d{4})\.md\)", RegexOptions.Multiline)
            .Select(m => (N: int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture), Id: m.Groups["id"].Value, Page: m.Groups["page"].Value))
            .ToList();
        Assert.Equal(Mistakes.Select((m, i) => (i + 1, m.Id, m.Id)), rows.Select(r => (r.N, r.Id, r.Page)));
        foreach (var id in rows.Select(r => r.Id).Distinct())
        {
            Assert.True(File.Exists(Path.Combine(GeneratorHarness.RepoRoot(), "docs", "diagnostics", id + ".md")), $"docs/diagnostics/{id}.md is missing");
        }
    }

    /// <summary>Copies the sample (no bin/obj) and points its relative ProjectReferences at the repository.</summary>
    private static string CopySample(string work)
    {
        Directory.CreateDirectory(work);
        foreach (string file in Directory.EnumerateFiles(SampleDir, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(SampleDir, file);
            string first = relative.Split(Path.DirectorySeparatorChar)[0];
            if (first is "bin" or "obj") continue;
            string target = Path.Combine(work, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        string project = Path.Combine(work, "CustomModel.csproj");
        string xml = File.ReadAllText(project);
        int rewritten = 0;
        xml = Regex.Replace(xml, "(<ProjectReference Include=\")([^\"]+)(\")", m =>
        {
            rewritten++;
            return m.Groups[1].Value + Path.GetFullPath(Path.Combine(SampleDir, m.Groups[2].Value)) + m.Groups[3].Value;
        });
        Assert.Equal(2, rewritten);
        File.WriteAllText(project, xml);
        return project;
    }

    private (int ExitCode, string Output, TimeSpan Elapsed) Build(string work, string project) =>
        Dotnet(work, "build", project, "--no-restore", "-nologo", "-c", Configuration,
            // Use the Runtime and Generator this test run already built; compile only the sample.
            "-p:BuildProjectReferences=false",
            // No MSBuild nodes or compiler server left behind by the test.
            "--disable-build-servers",
            "-clp:NoSummary");

    /// <summary>One "file(line,col): error ID: message" line of the build output.</summary>
    private sealed record BuildError(string File, int Line, int Column, string Id, string Message);

    private static List<BuildError> ParseErrors(string output) =>
        Regex.Matches(output, @"^\s*(?<path>[^\s(][^(]*?)\((?<line>\d+),(?<col>\d+)\): error (?<id>[A-Z]+\d+): (?<message>.*?)(?: \[[^\]]*\])?\s*$", RegexOptions.Multiline)
            .Select(m => new BuildError(Path.GetFileName(m.Groups["path"].Value), int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(m.Groups["col"].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups["id"].Value, m.Groups["message"].Value))
            .ToList();

    private (int ExitCode, string Output, TimeSpan Elapsed) Dotnet(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        // The test host runs inside MSBuild/VSTest: do not let its MSBuild settings leak into the child build.
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly", "MSBUILDNOINPROCNODE" })
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(BuildTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(" ", args)} did not finish in {BuildTimeout.TotalMinutes} minutes.");
        }
        process.WaitForExit();
        string output = stdout.Result + stderr.Result;
        _output.WriteLine($"dotnet {string.Join(" ", args)}: exit {process.ExitCode} in {watch.Elapsed.TotalSeconds:F1} s");
        return (process.ExitCode, output, watch.Elapsed);
    }
}
